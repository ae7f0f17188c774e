/**
 * Local egress proxy: the sandbox's only way out (see docs/sandbox.md, "Egress path").
 *
 * One proxy per invocation, listening on a unix socket bound into that sandbox. It accepts
 * HTTP CONNECT (HTTPS, opaque tunnel) and absolute-form plain HTTP requests; for each it
 * resolves the name itself, asks `decideEgress`, audits the decision (host and port only, never
 * payload), then connects to the very address it checked, so a second DNS answer cannot
 * redirect the connection (DNS rebinding).
 *
 * Credential placeholders: the proxy swaps a placeholder for its real value only in requests
 * to a host bound to it, and refuses (403, audited) a request carrying a placeholder to any
 * other host. It sees plain HTTP directly; for HTTPS, a call that carries placeholders gets a
 * per-call CA (tls-intercept.ts) and every CONNECT tunnel is terminated here, the request read,
 * checked and re-sent over TLS verified against the system roots (+ operator-configured CAs).
 * Without placeholders, CONNECT stays an opaque tunnel.
 */
import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, rootCertificates } from 'node:tls';
import { decideEgress, type EgressDecision, type EgressPolicy } from '../../../src/policy/index.ts';
import type { InterceptCa } from './tls-intercept.ts';

export interface PlaceholderBinding {
  placeholder: string;
  value: string;
  /** Hosts (lower-case) the real value may be sent to. */
  hosts: string[];
}

export type EgressAuditEvent =
  | { type: 'egress.decision'; via: 'connect' | 'http'; host: string; port: number; allow: boolean; rule: number; reason: string }
  | { type: 'egress.placeholder_refused'; host: string; port: number }
  | { type: 'egress.placeholder_swapped'; host: string; port: number };

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
  options.audit({ type: 'egress.decision', via, host, port, allow: decision.allow, rule: decision.rule, reason: decision.reason });
  return { decision, address: literal ? host : (resolvedAddresses[0] ?? null) };
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
  const upstream = connect({ host: address, port: target.port });
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

/** The user-pass of an RFC 7617 `Basic` header, or null for any other scheme. */
export function decodeBasic(value: string): string | null {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  return m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : null;
}

/**
 * Placeholder precedence for one request: 1 a placeholder bound to other hosts only → refuse;
 * 2 placeholders bound to this host → swap; 3 none present → pass unchanged.
 */
export function swapPlaceholders(text: string, host: string, bindings: PlaceholderBinding[]): { ok: true; text: string; swapped: boolean } | { ok: false } {
  let out = text;
  let swapped = false;
  for (const binding of bindings) {
    if (!out.includes(binding.placeholder)) continue;
    if (!binding.hosts.includes(host)) return { ok: false };
    out = out.split(binding.placeholder).join(binding.value);
    swapped = true;
  }
  return { ok: true, text: out, swapped };
}

const HOP_BY_HOP = new Set(['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

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

async function interceptTunnel(options: EgressProxyOptions, intercept: InterceptCa, client: Socket, head: Buffer, target: Omit<Target, 'secure'>): Promise<void> {
  const leaf = await intercept.leafFor(target.host);
  client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) client.unshift(head);
  const tlsClient = new TLSSocket(client, { isServer: true, secureContext: createSecureContext(leaf), ALPNProtocols: ['http/1.1'] });
  tlsClient.on('error', () => client.destroy());
  const inner = createServer((req, res) => {
    forward(options, req, res, { ...target, secure: true }, req.url ?? '/').catch(() => res.destroy());
  });
  inner.emit('connection', tlsClient);
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

/** Swaps or refuses placeholders over the whole request as the tool wrote it, then sends it. */
async function forward(options: EgressProxyOptions, req: IncomingMessage, res: ServerResponse, target: Target, pathAndQuery: string): Promise<void> {
  const body = await readBody(req);
  if (!body) return refuseResponse(res, 413);
  const bindings = options.placeholders ?? [];
  const headerLines: string[] = [];
  let swappedAny = false;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    if (HOP_BY_HOP.has(name.toLowerCase()) || name.toLowerCase() === 'content-length') continue;
    // RFC 7617 Basic credentials are base64: look inside, or `curl -u user:$TOKEN` would hide the placeholder.
    const basic = name.toLowerCase() === 'authorization' ? decodeBasic(req.rawHeaders[i + 1] ?? '') : null;
    if (basic !== null) {
      const result = swapPlaceholders(basic, target.host, bindings);
      if (!result.ok) {
        options.audit({ type: 'egress.placeholder_refused', host: target.host, port: target.port });
        return refuseResponse(res, 403);
      }
      swappedAny ||= result.swapped;
      headerLines.push(`${name}\nBasic ${Buffer.from(result.text, 'utf8').toString('base64')}`);
      continue;
    }
    headerLines.push(`${name}\n${req.rawHeaders[i + 1] ?? ''}`);
  }
  const swappedParts: string[] = [];
  for (const part of [pathAndQuery, headerLines.join('\n\n'), body.toString('latin1')]) {
    const result = swapPlaceholders(part, target.host, bindings);
    if (!result.ok) {
      options.audit({ type: 'egress.placeholder_refused', host: target.host, port: target.port });
      return refuseResponse(res, 403);
    }
    swappedAny ||= result.swapped;
    swappedParts.push(result.text);
  }
  if (swappedAny) options.audit({ type: 'egress.placeholder_swapped', host: target.host, port: target.port });
  const [path = '/', headerText = '', bodyText = ''] = swappedParts;
  const outBody = Buffer.from(bodyText, 'latin1');
  const headers: Record<string, string> = {};
  for (const pair of headerText ? headerText.split('\n\n') : []) {
    const [name = '', value = ''] = pair.split('\n');
    headers[name] = value;
  }
  headers['content-length'] = String(outBody.length);
  const common = { host: target.address, port: target.port, method: req.method, path, headers, setHost: false };
  const onResponse = (upRes: IncomingMessage) => {
    const responseHeaders = { ...upRes.headers };
    for (const name of HOP_BY_HOP) delete responseHeaders[name];
    res.writeHead(upRes.statusCode ?? 502, responseHeaders);
    upRes.pipe(res);
  };
  const upstream = target.secure
    ? httpsRequest({ ...common, servername: isIP(target.host) ? undefined : target.host, ca: [...rootCertificates, ...(options.upstreamCa ?? [])] }, onResponse)
    : httpRequest(common, onResponse);
  upstream.on('error', () => (res.headersSent ? res.destroy() : refuseResponse(res, 502)));
  upstream.end(outBody);
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
