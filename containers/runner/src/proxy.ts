/**
 * Local egress proxy: the sandbox's only way out (see docs/sandbox.md, "Egress path").
 *
 * One proxy per invocation, listening on a unix socket bound into that sandbox. It accepts
 * HTTP CONNECT (HTTPS, opaque tunnel) and absolute-form plain HTTP requests; for each it
 * resolves the name itself, asks `decideEgress`, audits the decision (host and port only, never
 * payload), then connects to the very address it checked, so a second DNS answer cannot
 * redirect the connection (DNS rebinding).
 *
 * Credential placeholders: for plain HTTP the proxy sees the request, swaps a placeholder for
 * its real value only when the destination host is bound to it, and refuses (403, audited) a
 * request carrying a placeholder to any other host. Inside a CONNECT tunnel the bytes are TLS
 * and are not inspected (no TLS termination here yet): see docs/sandbox.md.
 */
import { lookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import { decideEgress, type EgressDecision, type EgressPolicy } from './egress-contract.ts';

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

async function handleHttp(options: EgressProxyOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const refuse = (status: number) => {
    res.writeHead(status, { 'content-length': '0', connection: 'close' });
    res.end();
  };
  let url: URL;
  try {
    url = new URL(req.url ?? '');
  } catch {
    return refuse(400);
  }
  if (url.protocol !== 'http:' || url.username || url.password) return refuse(400);
  const target = parseAuthority(url.host, 80);
  if (!target) return refuse(400);
  const body = await readBody(req);
  if (!body) return refuse(413);
  const { decision, address } = await check(options, target.host, target.port, 'http');
  if (!decision.allow || !address) return refuse(403);

  // Swap over the whole request as the tool wrote it: path, headers and body.
  const bindings = options.placeholders ?? [];
  const headerLines: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    if (!HOP_BY_HOP.has(name.toLowerCase()) && name.toLowerCase() !== 'content-length') headerLines.push(`${name}\n${req.rawHeaders[i + 1] ?? ''}`);
  }
  const parts = [url.pathname + url.search, headerLines.join('\n\n'), body.toString('latin1')];
  const swappedParts: string[] = [];
  let swappedAny = false;
  for (const part of parts) {
    const result = swapPlaceholders(part, target.host, bindings);
    if (!result.ok) {
      options.audit({ type: 'egress.placeholder_refused', host: target.host, port: target.port });
      return refuse(403);
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
  const upstream = httpRequest({ host: address, port: target.port, method: req.method, path, headers, setHost: false }, (upRes) => {
    const responseHeaders = { ...upRes.headers };
    for (const name of HOP_BY_HOP) delete responseHeaders[name];
    res.writeHead(upRes.statusCode ?? 502, responseHeaders);
    upRes.pipe(res);
  });
  upstream.on('error', () => (res.headersSent ? res.destroy() : refuse(502)));
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
