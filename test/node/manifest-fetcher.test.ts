/**
 * SSRF tests for fetchManifestFromUrl. A real TCP listener on 127.0.0.1 counts connections:
 * every refused URL points at it (same port), and the count must stay 0 — a refusal means
 * no connection was attempted, not merely that the response was thrown away.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchManifestFromUrl, type ManifestFetchDeps, MAX_MANIFEST_BYTES } from '../../src/tools/manifest-fetcher.ts';

let server: Server;
let port = 0;
let connections = 0;
beforeAll(async () => {
  server = createServer((_req, res) => res.end('{"name":"from-listener"}'));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  connections = 0;
});

const MANIFEST = { name: 'demo', version: '1.0.0', tools: [{ name: 't', capabilities: [] }] };
const PUBLIC_ADDRESS = '93.184.215.14';

/**
 * A fetch that serves a few fake public hosts and hands everything else to the real
 * global fetch — so a URL the guard wrongly lets through really connects to the listener.
 */
function deps(routes: Record<string, () => Response> = {}, dns: Record<string, string[]> = {}) {
  const fetched: string[] = [];
  const d: ManifestFetchDeps = {
    resolve: async (host) => dns[host] ?? [PUBLIC_ADDRESS],
    fetch: async (url, init) => {
      fetched.push(url);
      const route = routes[new URL(url).host];
      return route ? route() : fetch(url, init);
    },
  };
  return { d, fetched };
}

const json = (body: unknown) => () => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
const redirect =
  (location: string, status = 302) =>
  () =>
    new Response(null, { status, headers: { Location: location } });

describe('the listener proves connections are counted', () => {
  it('counts a direct connection (control: the "no connection" assertions below can fail)', async () => {
    await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(connections).toBeGreaterThan(0);
  });
});

describe('fetchManifestFromUrl refuses private destinations in every spelling, without connecting', () => {
  const spellings = (p: number) => [
    ['dotted loopback', `https://127.0.0.1:${p}/m.json`, 'host-private'],
    ['decimal', `https://2130706433:${p}/m.json`, 'host-private'],
    ['hex', `https://0x7f000001:${p}/m.json`, 'host-private'],
    ['octal', `https://0177.0.0.1:${p}/m.json`, 'host-private'],
    ['short', `https://127.1:${p}/m.json`, 'host-private'],
    ['zero', `https://0:${p}/m.json`, 'host-private'],
    ['IPv6 loopback', `https://[::1]:${p}/m.json`, 'host-private'],
    ['IPv4-mapped dotted', `https://[::ffff:127.0.0.1]:${p}/m.json`, 'host-private'],
    ['IPv4-mapped hex', `https://[::ffff:7f00:1]:${p}/m.json`, 'host-private'],
    ['NAT64', `https://[64:ff9b::7f00:1]:${p}/m.json`, 'host-private'],
    ['trailing dot', `https://127.0.0.1.:${p}/m.json`, 'host-private'],
    ['upper-case localhost', `https://LOCALHOST:${p}/m.json`, 'host-private'],
    ['localhost subdomain', `https://evil.localhost:${p}/m.json`, 'host-private'],
    ['full-width digits', `https://１２７.０.０.１:${p}/m.json`, 'host-private'],
    ['percent-encoded dots', `https://127%2e0%2e0%2e1:${p}/m.json`, 'host-private'],
    ['metadata (decimal)', `https://2852039166:${p}/latest/meta-data/`, 'host-private'],
    ['userinfo naming a public host', `https://registry.example@127.0.0.1:${p}/m.json`, 'userinfo'],
    ['userinfo alone', `https://a@127.0.0.1:${p}/m.json`, 'userinfo'],
    ['userinfo on a public host', `https://user:pass@registry.example/m.json`, 'userinfo'],
    ['plain http', `http://127.0.0.1:${p}/m.json`, 'scheme-not-https'],
    ['plain http to a public host', 'http://registry.example/m.json', 'scheme-not-https'],
    ['file scheme', 'file:///etc/passwd', 'scheme-not-https'],
    ['not a URL', 'not a url', 'malformed-url'],
  ];

  it.each(spellings(0).map(([label], i) => [label, i] as const))('%s → URL refused, no connection', async (_label, i) => {
    const [, url, reason] = spellings(port)[i] ?? [];
    const { d, fetched } = deps();
    const result = await fetchManifestFromUrl(url ?? '', d);
    expect(result).toEqual({ ok: false, kind: 'url-not-allowed', reason, hop: 0 });
    expect(fetched).toEqual([]);
    expect(connections).toBe(0);
  });

  it.each([
    ['loopback', ['127.0.0.1']],
    ['one private among public ones', [PUBLIC_ADDRESS, '10.0.0.7']],
    ['mapped IPv6', ['::ffff:127.0.0.1']],
    ['link-local metadata', ['169.254.169.254']],
    ['unique local IPv6', ['fd12::1']],
  ])('a name that resolves to %s → refused before connecting (DNS rebinding)', async (_label, addresses) => {
    const { d, fetched } = deps({}, { 'rebind.example': addresses });
    const result = await fetchManifestFromUrl(`https://rebind.example:${port}/m.json`, d);
    expect(result).toEqual({ ok: false, kind: 'url-not-allowed', reason: 'resolves-private', hop: 0 });
    expect(fetched).toEqual([]);
    expect(connections).toBe(0);
  });

  it('a name that resolves to nothing → refused', async () => {
    const { d, fetched } = deps({}, { 'empty.example': [] });
    expect(await fetchManifestFromUrl('https://empty.example/m.json', d)).toMatchObject({ ok: false, reason: 'no-addresses' });
    expect(fetched).toEqual([]);
  });

  it.each([
    ['absolute loopback', (p: number) => `https://127.0.0.1:${p}/m.json`, 'host-private'],
    ['decimal spelling', (p: number) => `https://2130706433:${p}/m.json`, 'host-private'],
    ['mapped IPv6', (p: number) => `https://[::ffff:127.0.0.1]:${p}/m.json`, 'host-private'],
    ['scheme downgrade', (p: number) => `http://127.0.0.1:${p}/m.json`, 'scheme-not-https'],
    ['protocol-relative', (p: number) => `//127.0.0.1:${p}/m.json`, 'host-private'],
    ['userinfo', (p: number) => `https://registry.example@127.0.0.1:${p}/m.json`, 'userinfo'],
    ['name resolving privately', (p: number) => `https://rebind.example:${p}/m.json`, 'resolves-private'],
  ])('redirect to a private address (%s) is re-validated and refused, no connection', async (_label, location, reason) => {
    const { d, fetched } = deps({ 'registry.example': redirect(location(port)) }, { 'rebind.example': ['127.0.0.1'] });
    const result = await fetchManifestFromUrl('https://registry.example/m.json', d);
    expect(result).toEqual({ ok: false, kind: 'url-not-allowed', reason, hop: 1 });
    expect(fetched).toEqual(['https://registry.example/m.json']);
    expect(connections).toBe(0);
  });
});

describe('fetchManifestFromUrl happy path and limits', () => {
  it('fetches and parses a manifest from a public https URL', async () => {
    const { d } = deps({ 'registry.example': json(MANIFEST) });
    expect(await fetchManifestFromUrl('https://registry.example/m.json#frag', d)).toEqual({
      ok: true,
      manifest: MANIFEST,
      url: 'https://registry.example/m.json',
    });
  });

  it('follows up to 3 redirects, each validated; a 4th is refused', async () => {
    const routes = {
      'a.example': redirect('https://b.example/m.json', 301),
      'b.example': redirect('https://c.example/m.json', 307),
      'c.example': redirect('https://d.example/m.json'),
      'd.example': json(MANIFEST),
    };
    const three = deps(routes);
    expect(await fetchManifestFromUrl('https://a.example/m.json', three.d)).toMatchObject({ ok: true, url: 'https://d.example/m.json' });
    expect(three.fetched).toHaveLength(4);
    const four = deps({ ...routes, 'd.example': redirect('https://e.example/m.json'), 'e.example': json(MANIFEST) });
    expect(await fetchManifestFromUrl('https://a.example/m.json', four.d)).toEqual({
      ok: false,
      kind: 'url-not-allowed',
      reason: 'too-many-redirects',
      hop: 4,
    });
    expect(four.fetched).toHaveLength(4);
  });

  it('caps the body at 1 MiB while streaming (no Content-Length)', async () => {
    const big = () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(64 * 1024).fill(32));
          },
        }),
        { status: 200 },
      );
    const { d } = deps({ 'registry.example': big });
    expect(await fetchManifestFromUrl('https://registry.example/m.json', d)).toMatchObject({
      ok: false,
      kind: 'fetch-failed',
      reason: 'too-large',
    });
  });

  it('refuses a declared Content-Length over 1 MiB without reading', async () => {
    const { d } = deps({
      'registry.example': () => new Response('{}', { status: 200, headers: { 'Content-Length': String(MAX_MANIFEST_BYTES + 1) } }),
    });
    expect(await fetchManifestFromUrl('https://registry.example/m.json', d)).toMatchObject({ ok: false, reason: 'too-large' });
  });

  it('times out (injected short timeout) and aborts the request', async () => {
    let aborted = false;
    const d: ManifestFetchDeps = {
      resolve: async () => [PUBLIC_ADDRESS],
      fetch: (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
      timeoutMs: 30,
    };
    expect(await fetchManifestFromUrl('https://slow.example/m.json', d)).toMatchObject({
      ok: false,
      kind: 'fetch-failed',
      reason: 'timeout',
    });
    expect(aborted).toBe(true);
  });

  it.each([
    ['404', () => new Response('nope', { status: 404 }), 'http-status'],
    ['not JSON', () => new Response('<html>', { status: 200 }), 'not-json'],
    ['redirect without Location', () => new Response(null, { status: 302 }), 'redirect-without-location'],
  ])('%s → fetch-failed', async (_label, route, reason) => {
    const { d } = deps({ 'registry.example': route });
    expect(await fetchManifestFromUrl('https://registry.example/m.json', d)).toMatchObject({ ok: false, kind: 'fetch-failed', reason });
  });
});
