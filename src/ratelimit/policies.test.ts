import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES, DEFAULT_ROUTE_TABLE, loadPolicyTable, routeRuleFor } from './policies';
import { decide, expiredCount } from './sliding-log';

describe('RATE_LIMITS parsing', () => {
  it('uses the documented defaults (docs/ratelimit.md) when unset or blank', () => {
    for (const raw of [undefined, '', '  ']) expect(loadPolicyTable(raw)).toEqual({ ok: true, policies: DEFAULT_POLICIES });
    expect(DEFAULT_POLICIES['hooks-ip']).toMatchObject({ limit: 60, windowS: 60, onLimiterFailure: 'closed' });
    expect(DEFAULT_POLICIES['auth-ip']).toMatchObject({ limit: 20, windowS: 60, onLimiterFailure: 'closed' });
    expect(DEFAULT_POLICIES['login-failures']).toMatchObject({ limit: 10, windowS: 900, onLimiterFailure: 'closed' });
    expect(DEFAULT_POLICIES['api-credential']).toMatchObject({ limit: 600, windowS: 60 });
    expect(DEFAULT_POLICIES['default-ip']).toMatchObject({ limit: 300, windowS: 60 });
  });

  it('overrides limit and window of a named policy and keeps its failure mode', () => {
    const result = loadPolicyTable('{"hooks-ip":{"limit":120,"windowS":30}}');
    expect(result.ok && result.policies['hooks-ip']).toEqual({ limit: 120, windowS: 30, onLimiterFailure: 'closed' });
    expect(result.ok && result.policies['auth-ip']).toEqual(DEFAULT_POLICIES['auth-ip']);
  });

  it.each([
    ['{"hooks-ip":{"limit":60}}', 'hooks-ip.windowS'],
    ['{"hooks-ip":{"limit":"60","windowS":60}}', 'hooks-ip.limit'],
    ['{"nope":{"limit":1,"windowS":1}}', 'nope'],
    ['{"hooks-ip":{"limit":60,"windowS":86401}}', 'hooks-ip.windowS'],
  ])('rejects %s and names the path %s (never "no limits")', (raw, path) => {
    const result = loadPolicyTable(raw);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain(path);
  });
});

describe('route table', () => {
  it.each([
    ['/hooks/discord/c1', ['hooks-ip']],
    ['/hooks', ['default-ip']],
    ['/hooksx/a', ['default-ip']],
    ['/api/v1/auth/login', ['auth-ip']],
    ['/sign-in', ['auth-ip']],
    ['/sign-in/', ['auth-ip']],
    ['/setup', ['auth-ip']],
    ['/accept-invite', ['auth-ip']],
    ['/reset', ['auth-ip']],
    ['/account/password', ['auth-ip']],
    ['/sign-out', ['default-ip']],
    ['/agents', ['default-ip']],
    ['/api/v1/agents', ['api-ip', 'api-credential']],
    ['/api/v1/openapi.json', ['api-ip', 'api-credential']],
    ['/healthz', []],
    ['/healthzx', ['default-ip']],
    ['/healthz/', ['default-ip']],
    ['/', ['default-ip']],
  ])('maps %s to %j', (path, policies) => {
    expect(routeRuleFor(DEFAULT_ROUTE_TABLE, path)?.buckets.map((b) => b.policy)).toEqual(policies);
  });

  it('gives /healthz only the isolate-local bucket (no Durable Object round trip)', () => {
    expect(routeRuleFor(DEFAULT_ROUTE_TABLE, '/healthz')?.isolate).toBe('healthz-client');
    expect(routeRuleFor(DEFAULT_ROUTE_TABLE, '/healthzx')?.isolate).toBeUndefined();
  });
});

describe('sliding-window log', () => {
  const spec = { limit: 3, windowMs: 1000 };
  it('expires a hit exactly windowMs after it was made', () => {
    expect(expiredCount([0, 500], 999, 1000)).toBe(0);
    expect(expiredCount([0, 500], 1000, 1000)).toBe(1);
    expect(expiredCount([0, 500], 1500, 1000)).toBe(2);
  });

  it('admits while under the limit and reports when the oldest hit leaves', () => {
    expect(decide([], 100, spec, true)).toEqual({ admitted: true, count: 1, remaining: 2, resetMs: 1000, retryAfterMs: 0 });
    expect(decide([0, 10], 100, spec, true)).toEqual({ admitted: true, count: 3, remaining: 0, resetMs: 900, retryAfterMs: 0 });
    expect(decide([], 100, spec, false)).toEqual({ admitted: true, count: 0, remaining: 3, resetMs: 0, retryAfterMs: 0 });
  });

  it('denies at the limit until the oldest counted hit leaves', () => {
    expect(decide([0, 10, 20], 100, spec, true)).toEqual({ admitted: false, count: 3, remaining: 0, resetMs: 900, retryAfterMs: 900 });
  });

  it('after a lowered limit, waits for enough old hits to leave', () => {
    expect(decide([0, 10, 20, 30, 40], 100, { limit: 2, windowMs: 1000 }, true)).toMatchObject({ admitted: false, retryAfterMs: 930 });
  });
});
