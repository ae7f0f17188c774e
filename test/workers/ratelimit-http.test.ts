import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import type { AppEnv } from '../../src/env';
import { handleError } from '../../src/http';
import { sha256Hex } from '../../src/lib';
import { rateLimit } from '../../src/ratelimit';
import { expectError, expectSecurityHeaders, send } from './helpers';
import { exceededEvents, failingLimiterNamespace, sendWithEnv, storedWindow } from './ratelimit-helpers';

// One Worker (and one set of buckets) per file: every test uses its own client IPs.
const hook = (ip: string, extra: Record<string, string> = {}, path = '/hooks/discord/conn_1') =>
  send(path, { method: 'POST', headers: { 'CF-Connecting-IP': ip, 'Content-Type': 'application/json', ...extra }, body: '{}' });

async function storedHits(policy: string, key: string): Promise<number> {
  return (await storedWindow(policy, key)).hits;
}

describe('exact limits under concurrency', () => {
  it('admits exactly 60 of 200 concurrent webhook requests from one IP (hooks-ip: 60/min)', async () => {
    const responses = await Promise.all(Array.from({ length: 200 }, () => hook('198.51.100.1')));
    const statuses = responses.map((res) => res.status);
    // Admitted requests reach routing (no hook routes exist yet → 404); the rest are refused.
    expect(statuses.filter((s) => s === 429)).toHaveLength(140);
    expect(statuses.filter((s) => s === 404)).toHaveLength(60);
    expect(await storedHits('hooks-ip', 'ip:198.51.100.1')).toBe(60);
  });

  it('refuses the 61st request to any /hooks/ path from one IP with 429 even though it is unsigned', async () => {
    for (let i = 0; i < 60; i++) expect((await hook('198.51.100.2')).status).toBe(404);
    const res = await hook('198.51.100.2', {}, '/hooks/slack/anything');
    expect(res.headers.get('RateLimit-Limit')).toBe('60');
    expect(res.headers.get('RateLimit-Remaining')).toBe('0');
    const retryAfter = Number(res.headers.get('Retry-After'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(res.headers.get('RateLimit-Reset')).toBe(String(retryAfter));
    await expectError(res, 429, 'RATE_LIMITED');
    expect(await storedHits('hooks-ip', 'ip:198.51.100.2')).toBe(60); // the denial counted nothing
  });
});

describe('bucket keys: CF-Connecting-IP only', () => {
  it.each([
    ['X-Forwarded-For', (i: number) => ({ 'X-Forwarded-For': `203.0.113.${i}` })],
    ['X-Real-IP', (i: number) => ({ 'X-Real-IP': `203.0.113.${i}` })],
    ['Forwarded', (i: number) => ({ Forwarded: `for=203.0.113.${i}` })],
    ['True-Client-IP', (i: number) => ({ 'True-Client-IP': `203.0.113.${i}` })],
  ])('a spoofed %s per request does not create new buckets', async (header, spoof) => {
    const ip = `198.51.100.${10 + ['X-Forwarded-For', 'X-Real-IP', 'Forwarded', 'True-Client-IP'].indexOf(header)}`;
    for (let i = 0; i < 60; i++) await hook(ip, spoof(i));
    await expectError(await hook(ip, spoof(99)), 429, 'RATE_LIMITED');
    expect(await storedHits('hooks-ip', 'ip:203.0.113.99')).toBe(0); // no bucket was made for the spoofed address
  });

  it('gives a different CF-Connecting-IP its own bucket', async () => {
    for (let i = 0; i < 61; i++) await hook('198.51.100.20');
    await expectError(await hook('198.51.100.20'), 429, 'RATE_LIMITED');
    const other = await hook('198.51.100.21');
    expect(other.status).toBe(404);
    expect(other.headers.get('RateLimit-Remaining')).toBe('59');
  });

  it('keys IPv6 clients by /64: rotating addresses inside one prefix does not create new buckets', async () => {
    for (let i = 0; i < 60; i++) expect((await hook(`2001:db8:77:1::${(i + 1).toString(16)}`)).status).toBe(404);
    await expectError(await hook('2001:db8:77:1:ffff:ffff:ffff:fffe'), 429, 'RATE_LIMITED');
    expect(await storedHits('hooks-ip', 'ip6:2001:db8:77:1::/64')).toBe(60);
    expect((await hook('2001:db8:77:2::1')).status).toBe(404); // another /64 is another client
  });

  it.each([
    ['a query string', '/hooks/discord/conn_1?x=1'],
    ['percent-encoded path letters', '/%68ooks/discord/conn_1'],
    ['dot segments', '/hooks/./discord/../discord/conn_1'],
    ['a trailing slash', '/hooks/discord/conn_1/'],
  ])('does not let %s escape the hooks bucket', async (_label, path) => {
    const ip = `198.51.100.${30 + ['a query string', 'percent-encoded path letters', 'dot segments', 'a trailing slash'].indexOf(_label)}`;
    for (let i = 0; i < 60; i++) await hook(ip);
    await expectError(await hook(ip, {}, path), 429, 'RATE_LIMITED');
  });
});

describe('headers on limited routes', () => {
  it('sends RateLimit-* on an admitted response (tightest bucket), with the security headers', async () => {
    const res = await send('/api/v1/openapi.json', { headers: { 'CF-Connecting-IP': '198.51.100.40' } });
    expect(res.status).toBe(200);
    // api-ip (1200) and api-credential (600, keyed by the IP without a credential): the tighter one.
    expect(res.headers.get('RateLimit-Limit')).toBe('600');
    expect(res.headers.get('RateLimit-Remaining')).toBe('599');
    expect(res.headers.get('RateLimit-Reset')).toBe('60');
    expect(res.headers.get('Retry-After')).toBeNull();
    expectSecurityHeaders(res);
  });

  it('sends RateLimit-* on an error response that came after the limiter (404)', async () => {
    const res = await hook('198.51.100.41');
    expect(res.headers.get('RateLimit-Remaining')).toBe('59');
    await expectError(res, 404, 'NOT_FOUND');
  });
});

describe('auth routes: limited before the body is read', () => {
  it('answers the 21st /api/v1/auth/* request from one IP with 429, not the 415 its body would earn', async () => {
    const badBody = () =>
      send('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'CF-Connecting-IP': '198.51.100.50', 'Content-Type': 'text/plain' },
        body: 'x',
      });
    for (let i = 0; i < 20; i++) await expectError(await badBody(), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const res = await badBody();
    expect(res.headers.get('RateLimit-Limit')).toBe('20');
    await expectError(res, 429, 'RATE_LIMITED');
  });
});

describe('/api/v1/*: per credential, and per IP against credential rotation', () => {
  const tight = { RATE_LIMITS: JSON.stringify({ 'api-credential': { limit: 3, windowS: 60 }, 'api-ip': { limit: 8, windowS: 60 } }) };
  const api = (ip: string, headers: Record<string, string> = {}) =>
    sendWithEnv('/api/v1/nothing-here', tight, { headers: { 'CF-Connecting-IP': ip, ...headers } });

  it('keys a bearer token by its hash: a 4th request with one token is refused, another token is not', async () => {
    for (let i = 0; i < 3; i++) expect((await api('198.51.100.60', { Authorization: 'Bearer token-a' })).status).toBe(404);
    await expectError(await api('198.51.100.60', { Authorization: 'Bearer token-a' }), 429, 'RATE_LIMITED');
    expect((await api('198.51.100.60', { Authorization: 'Bearer token-b' })).status).toBe(404);
  });

  it('keys a session cookie by its hash', async () => {
    const cookie = { Cookie: '__Host-portcullis_session=session-a' };
    for (let i = 0; i < 3; i++) expect((await api('198.51.100.61', cookie)).status).toBe(404);
    await expectError(await api('198.51.100.61', cookie), 429, 'RATE_LIMITED');
  });

  it('stops an attacker who rotates bogus tokens from one IP at the per-IP limit', async () => {
    for (let i = 0; i < 8; i++) expect((await api('198.51.100.62', { Authorization: `Bearer bogus-${i}` })).status).toBe(404);
    await expectError(await api('198.51.100.62', { Authorization: 'Bearer bogus-fresh' }), 429, 'RATE_LIMITED');
    // Refused at the per-IP bucket, so no credential bucket was made for the fresh token.
    expect(await storedHits('api-credential', `cred:${await sha256Hex('bogus-fresh')}`)).toBe(0);
  });

  it('keys a request with no credential by client IP', async () => {
    for (let i = 0; i < 3; i++) expect((await api('198.51.100.63')).status).toBe(404);
    await expectError(await api('198.51.100.63'), 429, 'RATE_LIMITED');
    expect(await storedHits('api-credential', 'ip:198.51.100.63')).toBe(3);
  });
});

describe('limiter failure (per-policy choice)', () => {
  const broken = { RATE_LIMITER: failingLimiterNamespace() };
  const quiet = () => vi.spyOn(console, 'error').mockImplementation(() => undefined);

  it.each([
    ['webhooks', '/hooks/discord/conn_1'],
    ['auth', '/api/v1/auth/login'],
  ])('fails closed on %s routes: 503 SERVICE_UNAVAILABLE with Retry-After', async (_label, path) => {
    const spy = quiet();
    const res = await sendWithEnv(path, broken, { method: 'POST', headers: { 'CF-Connecting-IP': '198.51.100.70' } });
    expect(res.headers.get('Retry-After')).toBe('5');
    await expectError(res, 503, 'SERVICE_UNAVAILABLE');
    expect(spy.mock.calls.some(([line]) => String(line).includes('ratelimit.limiter-failed'))).toBe(true);
    spy.mockRestore();
  });

  it.each([
    ['/no-such-page', 404],
    ['/api/v1/openapi.json', 200],
  ])('fails open on %s (logged)', async (path, status) => {
    const spy = quiet();
    const res = await sendWithEnv(path, broken, { headers: { 'CF-Connecting-IP': '198.51.100.71' } });
    expect(res.status).toBe(status);
    expect(res.headers.get('RateLimit-Limit')).toBeNull();
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
  });
});

describe('malformed RATE_LIMITS fails closed', () => {
  it.each([
    ['not JSON', '{hooks-ip: 60'],
    ['a zero limit', '{"hooks-ip":{"limit":0,"windowS":60}}'],
    ['a limit above the memory bound', '{"hooks-ip":{"limit":100000,"windowS":60}}'],
    ['an unknown policy (typo)', '{"hook-ip":{"limit":60,"windowS":60}}'],
    ['an extra field', '{"hooks-ip":{"limit":60,"windowS":60,"onLimiterFailure":"open"}}'],
    ['a fractional window', '{"auth-ip":{"limit":5,"windowS":1.5}}'],
    ['an array', '[]'],
    ['null', 'null'],
  ])('refuses every request with 503 and a clear log line when the table is %s', async (_label, raw) => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await sendWithEnv('/healthz', { RATE_LIMITS: raw }, { headers: { 'CF-Connecting-IP': '198.51.100.80' } });
    await expectError(res, 503, 'SERVICE_UNAVAILABLE');
    expect(spy.mock.calls.some(([line]) => /ratelimit\.misconfigured.*RATE_LIMITS/.test(String(line)))).toBe(true);
    spy.mockRestore();
    expect(await storedHits('default-ip', 'ip:198.51.100.80')).toBe(0);
  });
});

describe('audit: ratelimit.exceeded once per key per window', () => {
  it('records one event for many denials of one IP, none for the admitted requests', async () => {
    const ip = '198.51.100.90';
    const post = () => sendWithEnv('/hooks/telegram/conn_9', {}, { method: 'POST', headers: { 'CF-Connecting-IP': ip } });
    for (let i = 0; i < 60; i++) await post();
    expect(await exceededEvents(`ip:${ip}`)).toEqual([]);
    for (let i = 0; i < 5; i++) expect((await post()).status).toBe(429);
    expect(await exceededEvents(`ip:${ip}`)).toEqual([{ policy: 'hooks-ip', key: `ip:${ip}`, windowS: 60 }]);
  });

  it('never puts a credential or its hash in the event', async () => {
    const token = 'pcl_secret_token_value_0123456789';
    const tight = { RATE_LIMITS: JSON.stringify({ 'api-credential': { limit: 1, windowS: 60 } }) };
    const call = () =>
      sendWithEnv('/api/v1/x', tight, { headers: { 'CF-Connecting-IP': '198.51.100.91', Authorization: `Bearer ${token}` } });
    await call();
    expect((await call()).status).toBe(429);
    const { results } = await env.DB.prepare("SELECT actor, data FROM audit_events WHERE kind = 'ratelimit.exceeded'").all();
    const dump = JSON.stringify(results);
    expect(dump).toContain('credential:bearer');
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(await sha256Hex(token));
  });
});

describe('OpenAPI', () => {
  it('documents the 429 (with Retry-After and RateLimit-*) and the 503 on limited routes', async () => {
    const res = await send('/api/v1/openapi.json', { headers: { 'CF-Connecting-IP': '198.51.100.95' } });
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    };
    const responses = doc.paths['/healthz']?.get?.responses ?? {};
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(['200', '429', '503']));
    expect(Object.keys(responses['429']?.headers ?? {})).toEqual([
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ]);
  });
});

describe('custom route tables', () => {
  it('refuses a path that no rule of a table without a catch-all covers (fails closed, not open)', async () => {
    const app = new Hono<AppEnv>();
    app.use('*', rateLimit([{ prefix: '/hooks/', buckets: [{ policy: 'hooks-ip', key: 'ip' }] }]));
    app.get('*', (c) => c.text('reached'));
    app.onError(handleError);
    const res = await app.request('/elsewhere', { headers: { 'CF-Connecting-IP': '198.51.100.96' } }, env);
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain('reached');
  });
});
