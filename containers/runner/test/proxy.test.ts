/**
 * The egress proxy on its own (no sandbox): how it reads CONNECT authorities and names.
 * Each refused attempt also checks that the target server saw no connection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import type { Server as HttpServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressProxy, type EgressAuditEvent } from '../src/proxy.ts';

const dir = mkdtempSync('/tmp/portcullis-proxy-test-');
const socketPath = join(dir, 'egress.sock');
const audit: EgressAuditEvent[] = [];
let target: Server;
let targetPort = 0;
let targetConnections = 0;
let proxy: HttpServer;

const DNS: Record<string, string[]> = {
  'allowed.test': ['127.0.0.1'],
  'rebind.test': ['93.184.215.14', '127.0.0.1'],
  'v6private.test': ['fd00::1'],
  'mapped.test': ['::ffff:10.0.0.1'],
  'public.test': ['93.184.215.14'],
};

beforeAll(async () => {
  target = createServer((s) => { targetConnections++; s.end(); });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as { port: number }).port;
  proxy = createEgressProxy({
    policy: { allow: [{ host: 'rebind.test', port: 443 }, { host: 'v6private.test', port: 443 }, { host: 'mapped.test', port: 443 }, { host: 'public.test', port: 443 }], operatorAllow: [{ host: 'allowed.test', port: targetPort }], blockPrivate: true },
    resolve: async (host) => DNS[host] ?? [],
    audit: (e) => audit.push(e),
  });
  await new Promise<void>((r) => proxy.listen(socketPath, r));
});

afterAll(() => {
  proxy.close();
  target.close();
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
  it('connects an operator-allowed destination, with the name normalised (case, trailing dot)', async () => {
    const before = targetConnections;
    expect(await rawConnect(`ALLOWED.test.:${targetPort}`)).toBe('HTTP/1.1 200 Connection Established');
    await new Promise((r) => setTimeout(r, 100));
    expect(targetConnections).toBe(before + 1);
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
  ])('refuses %s and connects nowhere', async (_name, authority, status) => {
    const before = targetConnections;
    const line = await rawConnect(authority());
    expect(line.split(' ')[1]).toBe(status);
    await new Promise((r) => setTimeout(r, 50));
    expect(targetConnections).toBe(before);
  });

  it('audits host and port only', () => {
    const denied = audit.filter((e) => e.type === 'egress.decision' && !e.allow);
    expect(denied.length).toBeGreaterThan(0);
    for (const event of audit) expect(Object.keys(event).sort()).toEqual(['allow', 'host', 'port', 'reason', 'rule', 'type', 'via']);
  });
});
