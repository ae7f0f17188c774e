/**
 * The egress proxy on its own (no sandbox): how it reads CONNECT authorities and names, which
 * Host it sends, and what it lets back. Each refused attempt also checks that nothing was
 * dialled: the injected `dial` records every connection the proxy starts, before it starts it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tlsConnect } from 'node:tls';
import { MAX_EVENT_HOST_CHARS } from '../src/egress-events.ts';
import { createInterceptCa } from '../src/tls-intercept.ts';
import { createEgressProxy, type EgressAuditEvent } from '../src/proxy.ts';
import { secretForms } from '../../../src/protocol/index.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync('/tmp/portcullis-proxy-test-');
const socketPath = join(dir, 'egress.sock');
const audit: EgressAuditEvent[] = [];
let target: Server;
let targetPort = 0;
let targetConnections = 0;
let proxy: HttpServer;
let echoProxy: HttpServer;
const echoSocketPath = join(dir, 'echo.sock');
let echo: HttpServer;
let echoPort = 0;
const echoSeen: Array<{ host: string; authorization: string }> = [];
const dialled: string[] = [];
const PLACEHOLDER = 'PORTCULLIS_PLACEHOLDER_0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const SECRET = 'ghp_proxyUnitSecret0123456789abcdefXYZ';

const DNS: Record<string, string[]> = {
  'allowed.test': ['127.0.0.1'],
  'rebind.test': ['93.184.215.14', '127.0.0.1'],
  'v6private.test': ['fd00::1'],
  'mapped.test': ['::ffff:10.0.0.1'],
  'public.test': ['93.184.215.14'],
  'echo.test': ['93.184.215.20'],
};
/** The public test address of echo.test is a loopback server: mapped only where the proxy dials. */
const ECHO_ADDRESS = '93.184.215.20';

beforeAll(async () => {
  target = createServer((s) => {
    targetConnections++;
    s.end();
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as { port: number }).port;
  // Answers with everything it received, like an echo API would.
  echo = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      echoSeen.push({ host: req.headers.host ?? '', authorization: req.headers.authorization ?? '' });
      const text = JSON.stringify({ url: req.url, headers: req.rawHeaders, body });
      res.setHeader('x-echo-authorization', req.headers.authorization ?? '');
      res.end(req.url?.startsWith('/b64') ? Buffer.from(text).toString('base64') : text);
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
  proxy = createEgressProxy({
    policy: {
      allow: [
        { host: 'rebind.test', port: 443 },
        { host: 'v6private.test', port: 443 },
        { host: 'mapped.test', port: 443 },
        { host: 'public.test', port: 443 },
        { host: 'allowed.test', port: targetPort },
        { host: 'echo.test', port: 80 },
      ],
      operatorAllow: [{ host: 'allowed.test', port: targetPort }],
      blockPrivate: true,
    },
    resolve: async (host) => DNS[host] ?? [],
    dial: (address, port) => {
      dialled.push(`${address}:${port}`);
      return address === ECHO_ADDRESS ? { host: '127.0.0.1', port: echoPort } : { host: address, port };
    },
    audit: (e) => audit.push(e),
  });
  await new Promise<void>((r) => proxy.listen(socketPath, r));
  echoProxy = createEgressProxy({
    policy: { allow: [{ host: 'echo.test', port: 80 }], blockPrivate: true },
    placeholders: [{ placeholder: PLACEHOLDER, value: SECRET, hosts: ['echo.test'] }],
    resolve: async (host) => DNS[host] ?? [],
    dial: (address, port) => (address === ECHO_ADDRESS ? { host: '127.0.0.1', port: echoPort } : { host: address, port }),
    audit: (e) => audit.push(e),
  });
  await new Promise<void>((r) => echoProxy.listen(echoSocketPath, r));
});

afterAll(() => {
  proxy.close();
  echoProxy.close();
  target.close();
  echo.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends a raw CONNECT and returns the proxy's status line. */
function rawConnect(authority: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(socketPath, () => socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`));
    let data = '';
    socket.on('data', (c) => {
      data += c.toString();
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.split('\r\n')[0] ?? '');
      }
    });
    socket.on('error', () => resolve(data.split('\r\n')[0] ?? 'error'));
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

describe('egress proxy: CONNECT authorities and names', () => {
  it('connects an operator-allowed destination the call declares, with the name normalised (case, trailing dot)', async () => {
    const before = targetConnections;
    expect(await rawConnect(`ALLOWED.test.:${targetPort}`)).toBe('HTTP/1.1 200 Connection Established');
    expect(await waitFor(() => targetConnections === before + 1, 10_000)).toBe(true);
  });

  it.each([
    ['an IPv6 loopback literal', () => `[::1]:${targetPort}`, '403'],
    ['an IPv4-mapped IPv6 loopback literal', () => `[::ffff:127.0.0.1]:${targetPort}`, '403'],
    ['a NAT64 form of loopback', () => `[64:ff9b::7f00:1]:${targetPort}`, '403'],
    ['a name that resolves to public and private addresses (rebinding)', () => 'rebind.test:443', '403'],
    ['a name that resolves to an IPv6 unique-local address', () => 'v6private.test:443', '403'],
    ['a name that resolves to an IPv4-mapped private address', () => 'mapped.test:443', '403'],
    ['a name that does not resolve', () => 'nowhere.test:443', '403'],
    ['a numeric shorthand of loopback (127.1)', () => `127.1:${targetPort}`, '403'],
    ['userinfo in the authority', () => `user@allowed.test:${targetPort}`, '400'],
    ['no port', () => 'allowed.test', '400'],
    ['port 0', () => 'allowed.test:0', '400'],
    ['a port above 65535', () => 'allowed.test:99999', '400'],
    ['an operator-allowed host on another port', () => 'allowed.test:1', '403'],
    ['a host longer than any DNS name', () => `${'a'.repeat(300)}.test:443`, '403'],
  ])('refuses %s and connects nowhere', async (_name, authority, status) => {
    const before = dialled.length;
    const line = await rawConnect(authority());
    expect(line.split(' ')[1]).toBe(status);
    // The proxy dials only after an allow, and answers a refusal without dialling.
    expect(dialled.length).toBe(before);
  });

  it('clips the host of an event to what the gateway accepts (a 300-character CONNECT host)', async () => {
    await rawConnect(`${'b'.repeat(300)}.test:443`);
    const event = audit.find((e) => e.host.startsWith('bbbb'));
    expect(event).toMatchObject({ type: 'egress.decision', allow: false, rule: 1, reason: 'malformed-host' });
    expect(event?.host.length).toBeLessThanOrEqual(MAX_EVENT_HOST_CHARS);
  });

  it('audits host and port only', () => {
    const denied = audit.filter((e) => e.type === 'egress.decision' && !e.allow);
    expect(denied.length).toBeGreaterThan(0);
    for (const event of audit.filter((e) => e.type === 'egress.decision'))
      expect(Object.keys(event).sort()).toEqual(['allow', 'host', 'port', 'reason', 'rule', 'type', 'via']);
    for (const event of audit.filter((e) => e.type !== 'egress.decision'))
      expect(Object.keys(event).sort()).toEqual(['host', 'port', 'type']);
  });
});

/** A plain-HTTP request through the proxy (absolute-form target), as a tool behind HTTP_PROXY sends it. */
function viaProxy(
  url: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: echoSocketPath, method: body ? 'POST' : 'GET', path: url, headers, setHost: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('latin1')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('egress proxy: Host and credential swap (plain HTTP, public name, manifest rule only)', () => {
  it("sends Host from the checked target, never the tool's own (another virtual host on the same address)", async () => {
    const before = echoSeen.length;
    const res = await viaProxy('http://echo.test/x', { host: 'intranet.other-vhost.test', authorization: `Bearer ${PLACEHOLDER}` });
    expect(res.status).toBe(200);
    expect(echoSeen.slice(before)).toEqual([{ host: 'echo.test', authorization: `Bearer ${SECRET}` }]);
  });

  it.each([
    ['the literal value in the body and a header', '/echo'],
    ['the base64 of everything it received', '/b64'],
  ])('scrubs %s from what the bound host sends back', async (_label, path) => {
    const res = await viaProxy(
      `http://echo.test${path}?q=${PLACEHOLDER}`,
      { host: 'echo.test', authorization: `Bearer ${PLACEHOLDER}`, 'x-api-key': PLACEHOLDER },
      `k=${PLACEHOLDER}`,
    );
    expect(res.status).toBe(200);
    const seen = `${JSON.stringify(res.headers)}${res.text}`;
    for (const form of secretForms(SECRET)) expect(seen).not.toContain(form);
    // The URL, the body and the other header carried only the placeholder.
    if (path === '/echo') expect(res.text.split(PLACEHOLDER).length - 1).toBe(3);
  });

  it('refuses an answer in a content coding it cannot scrub', async () => {
    const gz = createHttpServer((_req, res) => {
      res.setHeader('content-encoding', 'gzip');
      res.end('not really gzip');
    });
    await new Promise<void>((r) => gz.listen(0, '127.0.0.1', r));
    const port = (gz.address() as { port: number }).port;
    const local = createEgressProxy({
      policy: { allow: [{ host: 'echo.test', port: 80 }], blockPrivate: true },
      placeholders: [{ placeholder: PLACEHOLDER, value: SECRET, hosts: ['echo.test'] }],
      resolve: async (host) => DNS[host] ?? [],
      dial: () => ({ host: '127.0.0.1', port }),
      audit: () => {},
    });
    const path = join(dir, 'gz.sock');
    await new Promise<void>((r) => local.listen(path, r));
    const status = await new Promise<number>((resolve, reject) => {
      httpRequest({ socketPath: path, path: 'http://echo.test/', headers: { host: 'echo.test' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    local.close();
    gz.close();
    expect(status).toBe(502);
  });
});

describe('egress proxy: an intercepted tunnel carries requests for its CONNECT target only', () => {
  /** CONNECT echo.test:443, TLS with `servername`, one request with `host`; returns the status line. */
  async function throughTunnel(path: string, ca: string, servername: string, host: string): Promise<string> {
    const raw = connect(path);
    await new Promise<void>((resolve, reject) => {
      raw.once('error', reject);
      raw.write('CONNECT echo.test:443 HTTP/1.1\r\nHost: echo.test:443\r\n\r\n');
      raw.once('data', (chunk: Buffer) => (chunk.toString().startsWith('HTTP/1.1 200') ? resolve() : reject(new Error(chunk.toString()))));
    });
    return new Promise((resolve) => {
      const tls = tlsConnect({ socket: raw, servername, ca }, () =>
        tls.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${PLACEHOLDER}\r\nConnection: close\r\n\r\n`),
      );
      let data = '';
      tls.on('data', (c: Buffer) => (data += c.toString()));
      tls.on('error', () => resolve(data.split('\r\n')[0] ?? 'error'));
      tls.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    });
  }

  it('refuses (421) a request whose SNI or Host names another host, and dials nothing; the same request for the target is forwarded', async () => {
    const caDir = join(dir, 'ca');
    mkdirSync(caDir);
    const intercept = await createInterceptCa(caDir);
    const dials: string[] = [];
    const events: EgressAuditEvent[] = [];
    const tunnelProxy = createEgressProxy({
      policy: { allow: [{ host: 'echo.test', port: 443 }], blockPrivate: true },
      placeholders: [{ placeholder: PLACEHOLDER, value: SECRET, hosts: ['echo.test'] }],
      resolve: async (host) => DNS[host] ?? [],
      dial: (address, port) => {
        dials.push(`${address}:${port}`);
        return { host: '127.0.0.1', port: echoPort }; // plain HTTP behind: the TLS upstream then fails, after dialling
      },
      intercept,
      audit: (e) => events.push(e),
    });
    const path = join(dir, 'tunnel.sock');
    await new Promise<void>((r) => tunnelProxy.listen(path, r));
    const ca = readFileSync(intercept.certPath, 'utf8');
    try {
      expect(await throughTunnel(path, ca, 'echo.test', 'intranet.test')).toBe('HTTP/1.1 421 Misdirected Request');
      // SNI other.test: the leaf is for echo.test, so the client must not verify to get this far.
      const sniRefused = await new Promise<string>((resolve) => {
        const raw = connect(path, () => raw.write('CONNECT echo.test:443 HTTP/1.1\r\nHost: echo.test:443\r\n\r\n'));
        raw.once('data', () => {
          const tls = tlsConnect({ socket: raw, servername: 'other.test', rejectUnauthorized: false }, () =>
            tls.write('GET / HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n'),
          );
          let data = '';
          tls.on('data', (c: Buffer) => (data += c.toString()));
          tls.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
          tls.on('error', () => resolve('error'));
        });
      });
      expect(sniRefused).toBe('HTTP/1.1 421 Misdirected Request');
      expect(dials).toEqual([]);
      expect(events.filter((e) => e.type === 'egress.host_mismatch')).toHaveLength(2);
      // Control: SNI and Host naming the target reach the dial step.
      await throughTunnel(path, ca, 'echo.test', 'echo.test');
      expect(dials).toEqual([`${ECHO_ADDRESS}:443`]);
    } finally {
      tunnelProxy.close();
    }
  });
});
