/**
 * Local egress proxy: the sandbox's only way out (see docs/sandbox.md, "Egress path").
 *
 * One proxy per invocation, listening on a unix socket bound into that sandbox. It accepts
 * HTTP CONNECT (HTTPS, opaque tunnel) and absolute-form plain HTTP requests; for each it
 * resolves the name itself, asks `decideEgress`, audits the decision (host and port only, never
 * payload), then connects to the very address it checked, so a second DNS answer cannot
 * redirect the connection (DNS rebinding).
 *
 * Credential placeholders: the shared decision (src/policy/placeholders.ts) swaps a
 * placeholder for its real value only in its credential's header of a request to a bound host,
 * and refuses (403, audited) a request carrying a placeholder to any other host. Responses from
 * a bound host are scrubbed of the real value, in every form redaction knows
 * (src/protocol/secret-forms.ts), before they flow back into the sandbox. `Host` is always set
 * from the checked target, so the value cannot reach another virtual host on the same address.
 * The proxy sees plain HTTP directly; for HTTPS, a call that carries placeholders gets a
 * per-call CA (tls-intercept.ts) and every CONNECT tunnel is terminated here, the request read,
 * checked and re-sent over TLS verified against the system roots (+ operator-configured CAs).
 * Without placeholders, CONNECT stays an opaque tunnel.
 */
import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP, type Socket } from 'node:net';
import { Transform } from 'node:stream';
import { TLSSocket, createSecureContext, rootCertificates } from 'node:tls';
import {
  decideEgress,
  isBoundTo,
  planPlaceholders,
  swapPlaceholderHeaders,
  type EgressDecision,
  type EgressPolicy,
  type HeaderList,
} from '../../../src/policy/index.ts';
import { secretByteScrubber, secretRedactor } from '../../../src/protocol/index.ts';
import { clipHost, type EgressAuditEvent } from './egress-events.ts';
import type { InterceptCa } from './tls-intercept.ts';

export type { EgressAuditEvent } from './egress-events.ts';

export interface PlaceholderBinding {
  placeholder: string;
  value: string;
  /** Hosts the real value may be sent to. */
  hosts: string[];
  /** The request header the value may go into; default `Authorization`. */
  header?: string | undefined;
}

export interface EgressProxyOptions {
  policy: EgressPolicy;
  placeholders?: PlaceholderBinding[];
  /** Name resolution; injected by tests, node:dns otherwise. */
  resolve?: (host: string) => Promise<string[]>;
  audit: (event: EgressAuditEvent) => void;
  /** Per-call CA; required when placeholders are given (without it CONNECT is refused then). */
  intercept?: InterceptCa;
  /** Operator configuration: extra CAs (PEM) trusted for upstream TLS besides the system roots. */
  upstreamCa?: string[];
  /**
   * Where a checked address is dialled. Injected by test harnesses only (a public test address
   * → a loopback test server), after decideEgress has decided on the address itself; the
   * runner's configuration has no such field, so production always dials the checked address.
   */
  dial?: (address: string, port: number) => { host: string; port: number };
}

/** Largest plain-HTTP request body the proxy buffers to look for placeholders. */
export const PROXY_MAX_BODY_BYTES = 1024 * 1024;

export async function resolveWithDns(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/** `host:port`, `[v6]:port`; returns null when it is anything else. */
export function parseAuthority(authority: string, defaultPort: number | null): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/@\s]+))(?::(\d{1,5}))?$/.exec(authority);
  if (!m) return null;
  const port = m[3] ? Number(m[3]) : defaultPort;
  if (port === null || port < 1 || port > 65535) return null;
  const host = (m[1] ?? m[2] ?? '').toLowerCase().replace(/\.$/, '');
  return { host, port };
}

interface Checked {
  decision: EgressDecision;
  address: string | null;
}

async function check(options: EgressProxyOptions, host: string, port: number, via: 'connect' | 'http'): Promise<Checked> {
  const literal = isIP(host) !== 0;
  const resolvedAddresses = literal ? [] : await (options.resolve ?? resolveWithDns)(host);
  const decision = decideEgress(options.policy, { host, port, resolvedAddresses });
  options.audit({
    type: 'egress.decision',
    via,
    host: clipHost(host),
    port,
    allow: decision.allow,
    rule: decision.rule,
    reason: decision.reason,
  });
  return { decision, address: literal ? host : (resolvedAddresses[0] ?? null) };
}

function dialled(options: EgressProxyOptions, address: string, port: number): { host: string; port: number } {
  return options.dial ? options.dial(address, port) : { host: address, port };
}

function refuseSocket(socket: Socket, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

async function handleConnect(options: EgressProxyOptions, req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
  client.on('error', () => {});
  const target = parseAuthority(req.url ?? '', null);
  if (!target) return refuseSocket(client, '400 Bad Request');
  const { decision, address } = await check(options, target.host, target.port, 'connect');
  if (!decision.allow || !address) return refuseSocket(client, '403 Forbidden');
  if ((options.placeholders ?? []).length > 0) {
    // Placeholders must never leave unseen: terminate TLS, or refuse when we cannot (fail closed).
    if (!options.intercept) return refuseSocket(client, '403 Forbidden');
    return interceptTunnel(options, options.intercept, client, head, { ...target, address });
  }
  const upstream = connect(dialled(options, address, target.port));
  upstream.on('error', () => (client.writable ? refuseSocket(client, '502 Bad Gateway') : client.destroy()));
  upstream.on('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  client.on('close', () => upstream.destroy());
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > PROXY_MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const HOP_BY_HOP = new Set([
  'proxy-authorization',
  'proxy-connection',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

interface Target {
  host: string;
  port: number;
  /** The address decideEgress was asked about; the only one connected to. */
  address: string;
  secure: boolean;
}

function refuseResponse(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': '0', connection: 'close' });
  res.end();
}

async function interceptTunnel(
  options: EgressProxyOptions,
  intercept: InterceptCa,
  client: Socket,
  head: Buffer,
  target: Omit<Target, 'secure'>,
): Promise<void> {
  const leaf = await intercept.leafFor(target.host);
  client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) client.unshift(head);
  const tlsClient = new TLSSocket(client, { isServer: true, secureContext: createSecureContext(leaf), ALPNProtocols: ['http/1.1'] });
  tlsClient.on('error', () => client.destroy());
  const inner = createServer((req, res) => {
    // The credential was bound to the CONNECT target: a request naming another virtual host
    // (Host header, SNI, absolute-form target) inside this tunnel is refused, never re-routed.
    if (!sameDestination(req, tlsClient.servername, target)) {
      options.audit({ type: 'egress.host_mismatch', host: clipHost(target.host), port: target.port });
      return refuseResponse(res, 421);
    }
    forward(options, req, res, { ...target, secure: true }, req.url ?? '/').catch(() => res.destroy());
  });
  inner.emit('connection', tlsClient);
}

function sameDestination(req: IncomingMessage, sni: string | false | null | undefined, target: { host: string; port: number }): boolean {
  if (!(req.url ?? '').startsWith('/')) return false;
  const named = parseAuthority(req.headers.host ?? '', 443);
  if (!named || named.host !== target.host || named.port !== target.port) return false;
  return typeof sni !== 'string' || sni === '' || parseAuthority(sni, 443)?.host === target.host;
}

/** Plain HTTP, absolute-form (`GET http://host/path`), as proxies receive it. */
async function handleHttp(options: EgressProxyOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    return refuseResponse(res, 400);
  }
  if (url.protocol !== 'http:' || url.username || url.password) return refuseResponse(res, 400);
  const target = parseAuthority(url.host, 80);
  if (!target) return refuseResponse(res, 400);
  const { decision, address } = await check(options, target.host, target.port, 'http');
  if (!decision.allow || !address) return refuseResponse(res, 403);
  return forward(options, req, res, { ...target, address, secure: false }, url.pathname + url.search);
}

/** RFC 9110 §7.2: Host names the target; it is derived from the checked target, never copied from the tool. */
function hostHeader(target: Target): string {
  const name = isIP(target.host) === 6 ? `[${target.host}]` : target.host;
  return target.port === (target.secure ? 443 : 80) ? name : `${name}:${target.port}`;
}

/** Content codings the proxy can scrub in (it asks for identity when secrets are at stake). */
function scrubbable(encoding: string | undefined): boolean {
  return encoding === undefined || encoding.trim() === '' || encoding.trim().toLowerCase() === 'identity';
}

/** Applies the shared placeholder decision (src/policy/placeholders.ts), sends, and scrubs the answer. */
async function forward(
  options: EgressProxyOptions,
  req: IncomingMessage,
  res: ServerResponse,
  target: Target,
  pathAndQuery: string,
): Promise<void> {
  const body = await readBody(req);
  if (!body) return refuseResponse(res, 413);
  const bindings = options.placeholders ?? [];
  const headers: HeaderList = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || lower === 'host') continue;
    headers.push([name, req.rawHeaders[i + 1] ?? '']);
  }
  const plan = planPlaceholders({ host: target.host, target: pathAndQuery, headers, body: body.toString('latin1') }, bindings);
  if (!plan.ok) {
    options.audit({ type: 'egress.placeholder_refused', host: clipHost(target.host), port: target.port });
    return refuseResponse(res, 403);
  }
  if (plan.swap.length > 0) options.audit({ type: 'egress.placeholder_swapped', host: clipHost(target.host), port: target.port });
  // Every value that this host may ever have received is scrubbed from what it sends back,
  // swapped in this request or not (a stored comment can echo an earlier request).
  const secrets = bindings.filter((binding) => isBoundTo(binding, target.host)).map((binding) => binding.value);
  const outHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of swapPlaceholderHeaders(headers, plan.swap)) {
    const lower = name.toLowerCase();
    if (secrets.length > 0 && lower === 'accept-encoding') continue;
    const prior = outHeaders[lower];
    outHeaders[lower] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
  }
  outHeaders.host = hostHeader(target);
  if (secrets.length > 0) outHeaders['accept-encoding'] = 'identity';
  outHeaders['content-length'] = String(body.length);
  const dial = dialled(options, target.address, target.port);
  const common = { host: dial.host, port: dial.port, method: req.method, path: pathAndQuery, headers: outHeaders, setHost: false };
  const onResponse = (upRes: IncomingMessage) => {
    const responseHeaders: Record<string, string | string[] | undefined> = { ...upRes.headers };
    for (const name of HOP_BY_HOP) delete responseHeaders[name];
    if (secrets.length === 0) {
      res.writeHead(upRes.statusCode ?? 502, responseHeaders);
      upRes.pipe(res);
      return;
    }
    // Compressed or otherwise encoded bytes cannot be searched: refuse rather than pass them.
    if (!scrubbable(upRes.headers['content-encoding'])) {
      upRes.destroy();
      options.audit({ type: 'egress.response_refused', host: clipHost(target.host), port: target.port });
      return refuseResponse(res, 502);
    }
    const redact = secretRedactor(secrets);
    delete responseHeaders['content-length'];
    for (const [name, value] of Object.entries(responseHeaders)) {
      if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.map(redact) : redact(value);
    }
    const scrubber = secretByteScrubber(secrets);
    const scrub = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        done(null, Buffer.from(scrubber.push(chunk)));
      },
      flush(done) {
        done(null, Buffer.from(scrubber.end()));
      },
    });
    res.writeHead(upRes.statusCode ?? 502, responseHeaders);
    upRes.pipe(scrub).pipe(res);
  };
  const upstream = target.secure
    ? httpsRequest(
        { ...common, servername: isIP(target.host) ? undefined : target.host, ca: [...rootCertificates, ...(options.upstreamCa ?? [])] },
        onResponse,
      )
    : httpRequest(common, onResponse);
  upstream.on('error', () => (res.headersSent ? res.destroy() : refuseResponse(res, 502)));
  upstream.end(body);
}

export function createEgressProxy(options: EgressProxyOptions): Server {
  const server = createServer((req, res) => {
    handleHttp(options, req, res).catch(() => res.destroy());
  });
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handleConnect(options, req, socket, head).catch(() => socket.destroy());
  });
  return server;
}
