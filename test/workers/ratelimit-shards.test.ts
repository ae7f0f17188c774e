import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import { sha256Hex } from '../../src/lib';
import { denyCacheSize, shardOf } from '../../src/ratelimit';
import { expectError } from './helpers';
import { countedHits, exceededEvents, sendWithEnv, storedWindow, T0 } from './ratelimit-helpers';

/** The real limiter namespace, counting the calls that reach a shard. */
function countingLimiter() {
  const calls = { decide: 0, refund: 0 };
  const namespace = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.RATE_LIMITER.get(id);
      return {
        decide: (...args: Parameters<typeof stub.decide>) => {
          calls.decide++;
          return stub.decide(...args);
        },
        refund: (...args: Parameters<typeof stub.refund>) => {
          calls.refund++;
          return stub.refund(...args);
        },
      };
    },
  };
  return { calls, RATE_LIMITER: namespace as unknown as Env['RATE_LIMITER'] };
}

const hook = (ip: string, overrides: Partial<Env> = {}) =>
  sendWithEnv('/hooks/discord/conn_shards', overrides, {
    method: 'POST',
    headers: { 'CF-Connecting-IP': ip, 'Content-Type': 'application/json' },
    body: '{}',
  });

const statuses = (responses: Response[]) => responses.map((res) => res.status);
const count = (list: number[], status: number) => list.filter((s) => s === status).length;

/** A bearer token whose credential key lands on another shard than the client address. */
async function tokenOnOtherShard(ip: string, seed: string): Promise<string> {
  for (let i = 0; ; i++) {
    const token = `${seed}-${i}`;
    if (shardOf(`cred:${await sha256Hex(token)}`) !== shardOf(`ip:${ip}`)) return token;
  }
}

describe('exact under concurrency, across shards', () => {
  it('admits exactly 60 of 200 concurrent calls with one credential whose bucket is on another shard than the address', async () => {
    const ip = '192.0.2.10';
    const token = await tokenOnOtherShard(ip, 'shard-a');
    const tight = { RATE_LIMITS: JSON.stringify({ 'api-credential': { limit: 60, windowS: 60 } }) };
    const call = () => sendWithEnv('/api/v1/nothing', tight, { headers: { 'CF-Connecting-IP': ip, Authorization: `Bearer ${token}` } });
    const codes = statuses(await Promise.all(Array.from({ length: 200 }, call)));
    expect(count(codes, 404)).toBe(60);
    expect(count(codes, 429)).toBe(140);
    expect((await storedWindow('api-credential', `cred:${await sha256Hex(token)}`)).hits).toBe(60);
    // The per-address bucket (checked first) counted every request, as one after the other would.
    expect((await storedWindow('api-ip', `ip:${ip}`)).hits).toBe(200);
  });

  it('admits exactly 60 of 200 concurrent calls from one address rotating 200 tokens over every shard, and gives the refused ones their credential hits back', async () => {
    const ip = '192.0.2.11';
    const tight = { RATE_LIMITS: JSON.stringify({ 'api-ip': { limit: 60, windowS: 60 } }) };
    const tokens = Array.from({ length: 200 }, (_, i) => `rotating-${i}`);
    const codes = statuses(
      await Promise.all(
        tokens.map((token) =>
          sendWithEnv('/api/v1/nothing', tight, { headers: { 'CF-Connecting-IP': ip, Authorization: `Bearer ${token}` } }),
        ),
      ),
    );
    expect(count(codes, 404)).toBe(60);
    expect(count(codes, 429)).toBe(140);
    expect((await storedWindow('api-ip', `ip:${ip}`)).hits).toBe(60);
    const keys = await Promise.all(tokens.map(async (token) => `cred:${await sha256Hex(token)}`));
    expect(new Set(keys.map(shardOf)).size).toBeGreaterThan(16);
    const credentialHits = await Promise.all(keys.map((key) => countedHits('api-credential', key)));
    // Only the 60 admitted requests stay counted in a credential bucket: a refused one was refunded.
    expect(credentialHits.reduce((a, b) => a + b, 0)).toBe(60);
  });
});

describe('deny cache: refuses without a round trip, never admits', () => {
  it('with the cache warm, 200 concurrent requests of a full key are all refused and none reaches a shard', async () => {
    const ip = '192.0.2.20';
    for (let i = 0; i < 60; i++) expect((await hook(ip)).status).toBe(404);
    await expectError(await hook(ip), 429, 'RATE_LIMITED'); // the shard denies: the cache learns it
    const counting = countingLimiter();
    const codes = statuses(await Promise.all(Array.from({ length: 200 }, () => hook(ip, { RATE_LIMITER: counting.RATE_LIMITER }))));
    expect(count(codes, 429)).toBe(200);
    expect(counting.calls.decide).toBe(0);
    expect((await storedWindow('hooks-ip', `ip:${ip}`)).hits).toBe(60);
    // The first denial was audited once; cached refusals add no event and lose none.
    expect(await exceededEvents(`ip:${ip}`)).toEqual([{ policy: 'hooks-ip', key: `ip:${ip}`, windowS: 60 }]);
  });

  it('answers a cached refusal with the same headers the shard gives', async () => {
    const ip = '192.0.2.21';
    for (let i = 0; i < 60; i++) await hook(ip);
    const fromShard = await hook(ip);
    const counting = countingLimiter();
    const fromCache = await hook(ip, { RATE_LIMITER: counting.RATE_LIMITER });
    expect(counting.calls.decide).toBe(0);
    for (const name of ['RateLimit-Limit', 'RateLimit-Remaining']) expect(fromCache.headers.get(name)).toBe(fromShard.headers.get(name));
    const retryAfter = Number(fromCache.headers.get('Retry-After'));
    expect(retryAfter >= 1 && retryAfter <= Number(fromShard.headers.get('Retry-After'))).toBe(true);
    expect(fromCache.headers.get('RateLimit-Reset')).toBe(String(retryAfter));
    await expectError(fromCache, 429, 'RATE_LIMITED');
  });

  it('does not reuse a verdict made under another limit: a raised RATE_LIMITS goes to the shard and admits', async () => {
    const ip = '192.0.2.22';
    for (let i = 0; i < 61; i++) await hook(ip);
    const raised = { RATE_LIMITS: JSON.stringify({ 'hooks-ip': { limit: 120, windowS: 60 } }) };
    const res = await hook(ip, raised);
    expect(res.status).toBe(404);
    expect(res.headers.get('RateLimit-Remaining')).toBe('59');
  });

  it('lets the shard decide again once the cached moment passes: exactly 60 of 200 concurrent requests in the next window', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const ip = '192.0.2.23';
      vi.setSystemTime(T0);
      for (let i = 0; i < 61; i++) await hook(ip);
      expect(denyCacheSize()).toBeGreaterThan(0);
      vi.setSystemTime(T0 + 60_000);
      const codes = statuses(await Promise.all(Array.from({ length: 200 }, () => hook(ip))));
      expect(count(codes, 404)).toBe(60);
      expect(count(codes, 429)).toBe(140);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('one round trip per request', () => {
  it('asks one shard once for both /api/v1 buckets of a request without a credential (same key, same shard)', async () => {
    const counting = countingLimiter();
    const res = await sendWithEnv(
      '/api/v1/nothing',
      { RATE_LIMITER: counting.RATE_LIMITER },
      { headers: { 'CF-Connecting-IP': '192.0.2.30' } },
    );
    expect(res.status).toBe(404);
    expect(counting.calls.decide).toBe(1);
    expect(await countedHits('api-ip', 'ip:192.0.2.30')).toBe(1);
    expect(await countedHits('api-credential', 'ip:192.0.2.30')).toBe(1);
  });

  it('asks each shard once when the credential lives on another shard', async () => {
    const ip = '192.0.2.31';
    const token = await tokenOnOtherShard(ip, 'one-trip');
    const counting = countingLimiter();
    const res = await sendWithEnv(
      '/api/v1/nothing',
      { RATE_LIMITER: counting.RATE_LIMITER },
      { headers: { 'CF-Connecting-IP': ip, Authorization: `Bearer ${token}` } },
    );
    expect(res.status).toBe(404);
    expect(counting.calls).toEqual({ decide: 2, refund: 0 });
  });
});

describe('/healthz: no Durable Object round trip, and a flood against it hurts nothing else', () => {
  it('serves /healthz without asking any shard, even with the limiter down', async () => {
    const counting = countingLimiter();
    for (let i = 0; i < 20; i++)
      expect(
        (await sendWithEnv('/healthz', { RATE_LIMITER: counting.RATE_LIMITER }, { headers: { 'CF-Connecting-IP': '192.0.2.40' } })).status,
      ).toBe(200);
    expect(counting.calls.decide).toBe(0);
  });

  it('refuses a flooding address in this isolate, keeps serving another one, and touches no shared limit', async () => {
    const flooder = '192.0.2.41';
    const codes = statuses(
      await Promise.all(Array.from({ length: 300 }, () => sendWithEnv('/healthz', {}, { headers: { 'CF-Connecting-IP': flooder } }))),
    );
    expect(count(codes, 200)).toBeGreaterThanOrEqual(120);
    expect(count(codes, 200)).toBeLessThan(300);
    expect(count(codes, 429)).toBe(300 - count(codes, 200));
    expect(codes.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = await sendWithEnv('/healthz', {}, { headers: { 'CF-Connecting-IP': flooder } });
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    await expectError(refused, 429, 'RATE_LIMITED');
    expect((await sendWithEnv('/healthz', {}, { headers: { 'CF-Connecting-IP': '192.0.2.42' } })).status).toBe(200);
    // The flood left nothing in any shard: the flooder's own webhook budget is whole.
    expect(await storedWindow('default-ip', `ip:${flooder}`)).toEqual({ hits: 0, windows: 0 });
    const own = await hook(flooder);
    expect(own.headers.get('RateLimit-Remaining')).toBe('59');
  });

  it('covers /healthz exactly: /healthzx is still under the shared default limit', async () => {
    const counting = countingLimiter();
    const res = await sendWithEnv('/healthzx', { RATE_LIMITER: counting.RATE_LIMITER }, { headers: { 'CF-Connecting-IP': '192.0.2.43' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('RateLimit-Limit')).toBe('300');
    expect(counting.calls.decide).toBe(1);
  });
});
