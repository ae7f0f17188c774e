import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import {
  consume,
  loginThrottle,
  peek,
  rateLimitHeaders,
  refund,
  windowKey,
  type PolicyName,
  type RateLimitResult,
} from '../../src/ratelimit';
import { LAG_MARGIN_MS } from '../../src/ratelimit/window-schema';
import {
  alarmOf,
  exceededEvents,
  failingLimiterNamespace,
  ownShard,
  shardRows,
  shardStub,
  storedWindow,
  sweepAt,
  T0,
  tablesOf,
} from './ratelimit-helpers';

const SECOND = 1000;
const stubFor = (_policy: PolicyName, key: string) => shardStub(key);

function decided(result: RateLimitResult) {
  if (result.kind !== 'decided') throw new Error(`expected a decision, got ${result.kind}`);
  return result;
}

async function consumeTimes(policy: PolicyName, key: string, times: number, now: number) {
  const results = [];
  for (let i = 0; i < times; i++) results.push(decided(await consume(env, policy, key, now)));
  return results;
}

async function storedRows(policy: PolicyName, key: string): Promise<{ hits: number; tables: number }> {
  const { hits, windows } = await storedWindow(policy, key);
  return { hits, tables: windows };
}

describe('login-failures policy (account key, 10 per 15 minutes)', () => {
  it('counts with consume and reads without counting with peek', async () => {
    const key = 'account:usr_peek';
    for (let i = 0; i < 20; i++)
      expect(decided(await peek(env, 'login-failures', key, T0))).toMatchObject({ admitted: true, remaining: 10 });
    const results = await consumeTimes('login-failures', key, 11, T0);
    expect(results.map((r) => r.admitted)).toEqual([...Array(10).fill(true), false]);
    expect(results[9]?.remaining).toBe(0);
    expect(decided(await peek(env, 'login-failures', key, T0 + SECOND))).toMatchObject({ admitted: false, remaining: 0, retryAfterS: 899 });
  });

  it('never creates storage for a key that is only peeked at', async () => {
    await peek(env, 'login-failures', 'account:usr_only_peeked', T0);
    expect(await storedRows('login-failures', 'account:usr_only_peeked')).toEqual({ hits: 0, tables: 0 });
  });
});

describe('login-failures under concurrent attempts', () => {
  it('peek-then-consume lets every concurrent attempt past the peek (the race refund closes)', async () => {
    const peeks = await Promise.all(Array.from({ length: 25 }, () => peek(env, 'login-failures', 'account:usr_race_peek', T0)));
    expect(peeks.every((r) => r.admitted)).toBe(true);
  });

  it('consume-before-verify admits exactly 10 of 25 concurrent attempts; refunding successes frees their slots', async () => {
    const key = 'account:usr_race_refund';
    const attempts = (await Promise.all(Array.from({ length: 25 }, () => consume(env, 'login-failures', key, T0)))).map(decided);
    const admitted = attempts.filter((r) => r.admitted);
    expect(admitted).toHaveLength(10);
    expect(attempts.filter((r) => !r.admitted).every((r) => r.countedAtMs === null)).toBe(true);
    // Three of the admitted attempts were correct passwords: only failures stay counted.
    for (const attempt of admitted.slice(0, 3)) expect(await refund(env, 'login-failures', key, attempt.countedAtMs ?? -1)).toBe(true);
    expect(decided(await peek(env, 'login-failures', key, T0 + 1))).toMatchObject({ admitted: true, remaining: 3 });
    expect((await storedRows('login-failures', key)).hits).toBe(7);
  });

  it('refunds nothing for a hit that was never counted', async () => {
    const key = 'account:usr_refund_none';
    await consume(env, 'login-failures', key, T0);
    expect(await refund(env, 'login-failures', key, T0 - 1)).toBe(false);
    expect(await refund(env, 'login-failures', 'account:usr_never_seen', T0)).toBe(false);
    expect(decided(await peek(env, 'login-failures', key, T0 + 1)).remaining).toBe(9);
  });
});

describe('sliding window edge (time injected)', () => {
  it('gives Retry-After = window when full at once, 1 s just before the edge, and admits at the edge', async () => {
    const key = 'edge:a';
    await consumeTimes('login-failures', key, 10, T0);
    const full = decided(await consume(env, 'login-failures', key, T0));
    expect(rateLimitHeaders(full)).toEqual({
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '900',
      'Retry-After': '900',
    });

    const justBefore = decided(await consume(env, 'login-failures', key, T0 + 900 * SECOND - 1));
    expect(rateLimitHeaders(justBefore)).toEqual({
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '1',
      'Retry-After': '1',
    });

    const atEdge = decided(await consume(env, 'login-failures', key, T0 + 900 * SECOND));
    expect(atEdge.admitted).toBe(true);
    // All ten old hits left together; only this one is counted and it leaves a window from now.
    expect(rateLimitHeaders(atEdge)).toEqual({ 'RateLimit-Limit': '10', 'RateLimit-Remaining': '9', 'RateLimit-Reset': '900' });
  });

  it('frees quota one hit at a time (a sliding window, not a fixed one): no 2× burst at a boundary', async () => {
    const key = 'edge:b';
    // 10 hits spread one per minute: the 11th at minute 10 is refused until the first leaves at minute 15.
    for (let m = 0; m < 10; m++) expect(decided(await consume(env, 'login-failures', key, T0 + m * 60 * SECOND)).admitted).toBe(true);
    const refused = decided(await consume(env, 'login-failures', key, T0 + 10 * 60 * SECOND));
    expect(refused).toMatchObject({ admitted: false, retryAfterS: 300, resetS: 300 });
    const later = decided(await consume(env, 'login-failures', key, T0 + 15 * 60 * SECOND));
    expect(later).toMatchObject({ admitted: true, remaining: 0, resetS: 60 });
    expect(decided(await consume(env, 'login-failures', key, T0 + 15 * 60 * SECOND + 1)).admitted).toBe(false);
  });

  it('rounds Retry-After up to whole seconds within 1..window', async () => {
    const key = 'edge:c';
    await consumeTimes('auth-ip', key, 20, T0);
    for (const offsetMs of [0, 1, 999, 1000, 1001, 30_500, 59_001, 59_999]) {
      const result = decided(await consume(env, 'auth-ip', key, T0 + offsetMs));
      expect(result.retryAfterS).toBe(Math.ceil((60_000 - offsetMs) / 1000));
      expect(result.retryAfterS >= 1 && result.retryAfterS <= 60).toBe(true);
    }
  });
});

describe('RateLimiter object state', () => {
  it('survives eviction: the count carries on after the object is torn down', async () => {
    const key = 'evict:a';
    await consumeTimes('login-failures', key, 6, T0);
    await evictDurableObject(stubFor('login-failures', key));
    const after = await consumeTimes('login-failures', key, 5, T0 + SECOND);
    expect(after.map((r) => r.remaining)).toEqual([3, 2, 1, 0, 0]);
    expect(after.at(-1)?.admitted).toBe(false);
  });

  it('keeps storage per key bounded by the limit however many requests arrive', async () => {
    const key = 'bound:a';
    await consumeTimes('auth-ip', key, 60, T0);
    expect((await storedRows('auth-ip', key)).hits).toBe(20);
  });

  // A shard of its own, so no other test's windows share its alarm.
  const ask = (key: string) => ({ policy: 'auth-ip', key, limit: 20, windowMs: 60 * SECOND });
  const rows = (stub: ReturnType<typeof ownShard>) => runInDurableObject(stub, (_instance, state) => shardRows(state.storage.sql));

  it('deletes all storage of a window whose hits have all expired (alarm)', async () => {
    const stub = ownShard('alarm-a');
    for (let i = 0; i < 3; i++) await stub.decide('consume', [ask('alarm:a')], T0);
    expect(await rows(stub)).toEqual({ hits: 3, windows: 1 });
    expect(await sweepAt(stub, T0 + 65 * SECOND)).toBe(true); // expiry + LAG_MARGIN_MS
    expect(await rows(stub)).toEqual({ hits: 0, windows: 0 });
    expect((await stub.stats()).keysInMemory).toBe(0);
    const [after] = await stub.decide('consume', [ask('alarm:a')], T0 + 61 * SECOND);
    expect(after?.remaining).toBe(19);
  });

  it('deletes expired hits only, keeps the window that still holds one, and sets the next alarm for it', async () => {
    const stub = ownShard('alarm-b');
    await stub.decide('consume', [ask('alarm:b')], T0);
    await stub.decide('consume', [ask('alarm:b2')], T0);
    await stub.decide('consume', [ask('alarm:b')], T0 + 30 * SECOND);
    expect(await sweepAt(stub, T0 + 65 * SECOND)).toBe(true); // alarm:b2 is idle, alarm:b keeps its T0 + 30 s hit
    expect(await rows(stub)).toEqual({ hits: 1, windows: 1 });
    expect(await alarmOf(stub)).toBe(T0 + 95 * SECOND); // the T0 + 30 s hit's expiry + LAG_MARGIN_MS
    const [b] = await stub.decide('peek', [ask('alarm:b')], T0 + 60 * SECOND);
    expect(b?.remaining).toBe(19);
    expect(await sweepAt(stub, T0 + 95 * SECOND)).toBe(true);
    expect(await rows(stub)).toEqual({ hits: 0, windows: 0 });
  });

  it('sweeps a hit only LAG_MARGIN_MS after it expired, so a caller whose clock lags the sweep still sees it', async () => {
    const swept = ownShard('margin-swept');
    const control = ownShard('margin-control');
    for (const stub of [swept, control]) for (let i = 0; i < 20; i++) await stub.decide('consume', [ask('margin')], T0);
    expect(await sweepAt(swept, T0 + 60 * SECOND + LAG_MARGIN_MS)).toBe(true);
    // A caller 1 ms behind the sweep's clock gets what a shard that never swept would give it.
    const lagging = T0 + 60 * SECOND + LAG_MARGIN_MS - 1;
    const admitted = async (stub: ReturnType<typeof ownShard>) =>
      (await Promise.all(Array.from({ length: 50 }, () => stub.decide('consume', [ask('margin')], lagging)))).filter(([d]) => d?.admitted)
        .length;
    expect(await admitted(swept)).toBe(await admitted(control));
  });

  it('keeps a pruned hit for a caller whose clock lags the last decision by less than LAG_MARGIN_MS', async () => {
    const stub = ownShard('prune-margin');
    for (let i = 0; i < 20; i++) await stub.decide('consume', [ask('prune')], T0 + i);
    // A caller 2 s ahead sees the window 60 s later: every hit has left it, none is deleted yet.
    const [ahead] = await stub.decide('peek', [ask('prune')], T0 + 62 * SECOND);
    expect(ahead?.remaining).toBe(20);
    // A caller whose clock is 3 s behind still counts them all.
    const lagging = await Promise.all(Array.from({ length: 50 }, () => stub.decide('consume', [ask('prune')], T0 + 59 * SECOND)));
    expect(lagging.filter(([d]) => d?.admitted)).toHaveLength(0);
  });

  it('after a cold start, its alarm deletes no hit that still counts (the row it was set for refunded)', async () => {
    const stub = ownShard('cold-alarm');
    const [a] = await stub.decide('consume', [ask('cold:a')], T0); // the alarm: T0 + 65 s
    for (let i = 0; i < 20; i++) await stub.decide('consume', [ask('cold:b')], T0 + 30 * SECOND);
    expect(await stub.refund('auth-ip', 'cold:a', a?.countedAtMs ?? -1)).toBe(true); // the row the alarm was set for is gone
    await evictDurableObject(stub);
    expect(await sweepAt(stub, T0 + 65 * SECOND)).toBe(true);
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => stub.decide('consume', [ask('cold:b')], T0 + 31 * SECOND)));
    expect(verdicts.filter(([d]) => d?.admitted)).toHaveLength(0);
  });

  it('moves the sweep earlier when a shorter window writes after a longer one', async () => {
    const stub = ownShard('alarm-earlier');
    // Two hits each: a window's first hit alone writes no row.
    for (let i = 0; i < 2; i++) await stub.decide('consume', [{ ...ask('long'), windowMs: 900 * SECOND }], T0);
    for (let i = 0; i < 2; i++) await stub.decide('consume', [ask('short')], T0);
    expect(await alarmOf(stub)).toBe(T0 + 65 * SECOND); // not T0 + 905 s
    expect(await sweepAt(stub, T0 + 65 * SECOND)).toBe(true);
    expect(await rows(stub)).toEqual({ hits: 2, windows: 1 });
  });

  it('keeps stored hits for a window RATE_LIMITS lengthened, past their old expiry', async () => {
    const stub = ownShard('lengthened');
    for (let i = 0; i < 20; i++) await stub.decide('consume', [ask('grown')], T0);
    const longer = { ...ask('grown'), windowMs: 3_600 * SECOND };
    const [denied] = await stub.decide('consume', [longer], T0 + SECOND);
    expect(denied?.admitted).toBe(false);
    expect(await sweepAt(stub, T0 + 65 * SECOND)).toBe(true); // the hits now count until T0 + 3,600 s
    expect(await rows(stub)).toEqual({ hits: 20, windows: 1 });
    await evictDurableObject(stub);
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => stub.decide('consume', [longer], T0 + 120 * SECOND)));
    expect(verdicts.filter(([d]) => d?.admitted)).toHaveLength(0);
  });

  it('keeps memory bounded by evicting least recently used windows, and stays exact for an evicted window', async () => {
    const stub = ownShard('memory-bound');
    const bound = { keys: 8, hits: 1_000, storedKeys: 8_192 };
    // A hot key fills its window, then 100 other keys push it out of memory.
    for (let i = 0; i < 20; i++) await stub.decide('consume', [ask('hot')], T0, bound);
    for (let i = 0; i < 100; i++) await stub.decide('consume', [ask(`cold:${i}`)], T0, bound);
    const stats = await stub.stats();
    expect(stats.keysInMemory).toBeLessThanOrEqual(8);
    expect(stats.evicted).toBeGreaterThanOrEqual(93);
    // Memory is a cache: a window is stored, or held with its one unsaved hit (written when it leaves memory).
    expect(stats.windowsStored + stats.unsavedWindows).toBe(101);
    expect(stats.unsavedWindows).toBeLessThanOrEqual(8);
    // Read back from SQLite: still full, so 200 concurrent asks admit none.
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => stub.decide('consume', [ask('hot')], T0 + SECOND, bound)));
    expect(verdicts.filter(([d]) => d?.admitted)).toHaveLength(0);
    expect((await stub.stats()).keysInMemory).toBeLessThanOrEqual(8);
  });

  it('stays exact once the set of stored windows outgrows its bound (every miss then reads SQLite)', async () => {
    const stub = ownShard('stored-keys-bound');
    const bound = { keys: 8, hits: 1_000, storedKeys: 50 };
    for (let i = 0; i < 20; i++) await stub.decide('consume', [ask('hot')], T0, bound);
    for (let i = 0; i < 100; i++) await stub.decide('consume', [ask(`cold:${i}`)], T0, bound);
    expect((await stub.stats()).storedKeysKnown).toBeNull();
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => stub.decide('consume', [ask('hot')], T0 + SECOND, bound)));
    expect(verdicts.filter(([d]) => d?.admitted)).toHaveLength(0);
    const [cold] = await stub.decide('consume', [ask('cold:99')], T0 + SECOND, bound);
    expect(cold?.remaining).toBe(18);
    // Once the sweep has brought the shard under the bound, the set is rebuilt: the two windows written at T0 + 1 s.
    expect(await sweepAt(stub, T0 + 65 * SECOND)).toBe(true);
    expect(await stub.stats()).toMatchObject({ storedKeysKnown: 2, windowsStored: 2 });
  });

  it('bounds memory by counted hits as well as by windows', async () => {
    const stub = ownShard('memory-hits');
    const bound = { keys: 1_000, hits: 50, storedKeys: 8_192 };
    for (let k = 0; k < 10; k++) for (let i = 0; i < 20; i++) await stub.decide('consume', [ask(`many:${k}`)], T0, bound);
    const stats = await stub.stats();
    expect(stats.hitsInMemory).toBeLessThanOrEqual(50);
    expect(stats.hitsStored).toBe(200);
  });

  it("holds a window's first hit in memory only, and writes it with the second", async () => {
    const stub = ownShard('first-hit');
    await stub.decide('consume', [ask('first')], T0);
    expect(await rows(stub)).toEqual({ hits: 0, windows: 0 });
    expect((await stub.stats()).unsavedWindows).toBe(1);
    const [second] = await stub.decide('consume', [ask('first')], T0 + 1);
    expect(second?.remaining).toBe(18);
    expect(await rows(stub)).toEqual({ hits: 2, windows: 1 });
    expect((await stub.stats()).unsavedWindows).toBe(0);
  });

  it("writes an unsaved first hit's row with the longest window an ask used, not the latest", async () => {
    const stub = ownShard('first-hit-window');
    await stub.decide('consume', [{ ...ask('mixed'), windowMs: 900 * SECOND }], T0);
    await stub.decide('consume', [ask('mixed')], T0 + 1); // a 60 s ask (a RATE_LIMITS change rolling out)
    const first = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ expires_ms: number }>('SELECT expires_ms FROM window_log WHERE at_ms = ?', T0).one(),
    );
    expect(first.expires_ms).toBe(T0 + 900 * SECOND);
  });

  it('drops one-off windows from memory once their hit left the window, writing nothing and evicting nothing', async () => {
    const stub = ownShard('expired-one-offs');
    const bound = { keys: 8, hits: 1_000, storedKeys: 8_192 };
    // A stream of new keys, one a second, each key asked once: at most the 65 s (window + lag
    // margin) that still count stay in memory, so a bound of 8 is never reached by 5 keys at once.
    for (let i = 0; i < 5; i++) await stub.decide('consume', [ask(`once:${i}`)], T0 + i * SECOND, bound);
    expect((await stub.stats()).keysInMemory).toBe(5);
    // Past the first three keys' window + margin, one decision drops them: memory holds 2 + 1.
    await stub.decide('consume', [ask('later')], T0 + 2 * SECOND + 60 * SECOND + LAG_MARGIN_MS, bound);
    expect(await stub.stats()).toMatchObject({ keysInMemory: 3, unsavedWindows: 3, evicted: 0 });
    expect(await rows(stub)).toEqual({ hits: 0, windows: 0 });
    // A dropped key starts afresh: its hit no longer counts for any caller.
    const [again] = await stub.decide('consume', [ask('once:0')], T0 + 2 * SECOND + 60 * SECOND + LAG_MARGIN_MS, bound);
    expect(again?.remaining).toBe(19);
  });

  it('writes a first hit that still counts when its window is evicted, so it is never forgotten: limit 1 stays 1', async () => {
    const stub = ownShard('evicted-first-hit');
    const bound = { keys: 8, hits: 1_000, storedKeys: 8_192 };
    const one = (key: string) => ({ ...ask(key), limit: 1 });
    const [first] = await stub.decide('consume', [one('target')], T0, bound);
    expect(first?.admitted).toBe(true);
    // 20 other keys within the same second push the target's window (its hit unsaved, still counting) out of memory.
    for (let i = 0; i < 20; i++) await stub.decide('consume', [one(`push:${i}`)], T0 + 1 + i, bound);
    expect((await stub.stats()).evicted).toBeGreaterThan(0);
    const targetRows = await runInDurableObject(stub, (_instance, state) => shardRows(state.storage.sql, windowKey('auth-ip', 'target')));
    expect(targetRows).toEqual({ hits: 1, windows: 1 });
    // Read back from SQLite: of 200 concurrent asks, none is admitted.
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => stub.decide('consume', [one('target')], T0 + SECOND, bound)));
    expect(verdicts.filter(([d]) => d?.admitted)).toHaveLength(0);
  });

  it('writes the horizon once for many first hits in the same second, and no hit row', async () => {
    const stub = ownShard('horizon-once');
    for (let i = 0; i < 100; i++) await stub.decide('consume', [ask(`new:${i}`)], T0 + i);
    const horizons = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ policy: string; until_ms: number }>('SELECT policy, until_ms FROM lazy_horizon').toArray(),
    );
    expect(horizons).toEqual([{ policy: 'auth-ip', until_ms: T0 + 1_000 }]);
    expect(await rows(stub)).toEqual({ hits: 0, windows: 0 });
  });

  it('after a restart lost unsaved first hits, counts a stand-in for each until it would have left its window: never over the limit', async () => {
    const stub = ownShard('restart-unsaved');
    const two = (key: string) => ({ ...ask(key), limit: 2 });
    // One admitted first hit, held in memory only; then the object is torn down and its memory lost.
    const [first] = await stub.decide('consume', [two('lost')], T0);
    expect(first?.admitted).toBe(true);
    await evictDurableObject(stub);
    // Of 200 concurrent asks only one more is admitted: the lost hit still counts (as its stand-in).
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => stub.decide('consume', [two('lost')], T0 + SECOND)));
    expect(verdicts.filter(([d]) => d?.admitted)).toHaveLength(1);
    // A window the shard cannot tell apart (no stored hit) is counted the same way: one fewer, never one more.
    const [unseen] = await stub.decide('peek', [two('unseen')], T0 + SECOND);
    expect(unseen).toMatchObject({ admitted: true, remaining: 1 });
    // A policy that never held an unsaved hit has no stand-ins.
    const [other] = await stub.decide('peek', [{ ...two('unseen'), policy: 'hooks-ip' }], T0 + SECOND);
    expect(other).toMatchObject({ admitted: true, remaining: 2 });
    // Once the stand-in would have left its window (horizon + window), the full limit is back.
    const [later] = await stub.decide('peek', [two('unseen-later')], T0 + 1_000 + 60 * SECOND);
    expect(later).toMatchObject({ admitted: true, remaining: 2 });
  });

  it('admits exactly min(N, limit) of N concurrent consumes', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => consume(env, 'auth-ip', 'race:a', T0)));
    expect(results.filter((r) => r.admitted)).toHaveLength(20);
    expect(new Set(results.filter((r) => r.admitted).map((r) => decided(r).remaining))).toEqual(
      new Set(Array.from({ length: 20 }, (_, i) => i)),
    );
  });
});

describe('failures', () => {
  it('fails closed for login-failures and open for default-ip when the limiter throws', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = { ...env, RATE_LIMITER: failingLimiterNamespace() };
    expect(await consume(broken, 'login-failures', 'account:x', T0)).toMatchObject({
      kind: 'unavailable',
      admitted: false,
      failMode: 'closed',
    });
    expect(await peek(broken, 'login-failures', 'account:x', T0)).toMatchObject({ kind: 'unavailable', admitted: false });
    expect(await consume(broken, 'hooks-ip', 'ip:x', T0)).toMatchObject({ kind: 'unavailable', admitted: false });
    expect(await consume(broken, 'default-ip', 'ip:x', T0)).toMatchObject({ kind: 'unavailable', admitted: true, failMode: 'open' });
    spy.mockRestore();
  });

  it('fails closed for every policy when RATE_LIMITS is malformed, without touching the limiter', async () => {
    const misconfigured = { ...env, RATE_LIMITS: '{"default-ip":{"limit":-1,"windowS":60}}' };
    expect(await consume(misconfigured, 'default-ip', 'ip:mis', T0)).toMatchObject({
      kind: 'unavailable',
      admitted: false,
      reason: 'misconfigured',
    });
    expect(await storedRows('default-ip', 'ip:mis')).toEqual({ hits: 0, tables: 0 });
  });

  it('applies a valid RATE_LIMITS override', async () => {
    const custom = { ...env, RATE_LIMITS: '{"login-failures":{"limit":2,"windowS":60}}' };
    const results = [];
    for (let i = 0; i < 3; i++) results.push(decided(await consume(custom, 'login-failures', 'account:custom', T0)));
    expect(results.map((r) => [r.admitted, r.limit, r.windowS])).toEqual([
      [true, 2, 60],
      [true, 2, 60],
      [false, 2, 60],
    ]);
  });
});

describe('audit', () => {
  it('records ratelimit.exceeded once per key per window, in the workspace chain when known', async () => {
    const key = 'account:usr_audit';
    await consumeTimes('login-failures', key, 10, T0);
    for (let i = 0; i < 4; i++) await consume(env, 'login-failures', key, T0 + i, { workspaceId: 'ws_rl', actor: 'ip:192.0.2.1' });
    expect(await exceededEvents(key)).toEqual([{ policy: 'login-failures', key, windowS: 900 }]);
    const { results } = await env.DB.prepare(
      "SELECT workspace_id, actor FROM audit_events WHERE kind = 'ratelimit.exceeded' AND workspace_id = 'ws_rl'",
    ).all();
    expect(results).toEqual([{ workspace_id: 'ws_rl', actor: 'ip:192.0.2.1' }]);

    // A new window: fill again and the next denial is audited again.
    await consumeTimes('login-failures', key, 11, T0 + 901 * SECOND);
    expect(await exceededEvents(key)).toHaveLength(2);
  });

  it('does not audit twice after eviction within the same window', async () => {
    const key = 'account:usr_audit_evict';
    await consumeTimes('login-failures', key, 11, T0);
    await evictDurableObject(stubFor('login-failures', key));
    await consume(env, 'login-failures', key, T0 + SECOND);
    expect(await exceededEvents(key)).toHaveLength(1);
  });
});

describe('loginThrottle (the LoginThrottle the identity code injects)', () => {
  const from = (account: string, ip: string) => ({ account, client: { ip } });

  it('locks an (account, address) pair after 10 failed attempts, with Retry-After up to 15 minutes, and unlocks as they expire', async () => {
    const keys = from('account:usr_throttle', '192.0.2.10');
    for (let i = 0; i < 10; i++) expect((await loginThrottle.attempt(env, keys, T0 + i * SECOND)).locked).toBe(false);
    expect(await loginThrottle.attempt(env, keys, T0 + 10 * SECOND)).toEqual({ locked: true, retryAfterS: 890 });
    expect((await loginThrottle.attempt(env, keys, T0 + 900 * SECOND)).locked).toBe(false);
  });

  it('an address that exhausted its tier does not lock the account out for another address, and is not counted in the account tier', async () => {
    const account = 'account:usr_pair';
    for (let i = 0; i < 10; i++) expect((await loginThrottle.attempt(env, from(account, '192.0.2.20'), T0)).locked).toBe(false);
    for (let i = 0; i < 5; i++) expect((await loginThrottle.attempt(env, from(account, '192.0.2.20'), T0)).locked).toBe(true);
    expect((await loginThrottle.attempt(env, from(account, '198.51.100.20'), T0)).locked).toBe(false);
    // 10 + 1 counted in the account tier; the 5 refused ones were not.
    expect(decided(await peek(env, 'login-failures-account', account, T0)).remaining).toBe(100 - 11);
  });

  it('the account ceiling holds against many addresses (100 per 15 minutes), and a refusal there is not charged to the address', async () => {
    const account = 'account:usr_ceiling';
    const ip = (i: number) => `203.0.113.${i}`;
    let admitted = 0;
    for (let i = 0; i < 11; i++) {
      for (let j = 0; j < 10; j++) if (!(await loginThrottle.attempt(env, from(account, ip(i)), T0)).locked) admitted++;
    }
    expect(admitted).toBe(100);
    const fresh = from(account, '203.0.113.200');
    expect(await loginThrottle.attempt(env, fresh, T0 + SECOND)).toEqual({ locked: true, retryAfterS: 899 });
    expect(decided(await peek(env, 'login-failures', `${account}:ip:203.0.113.200`, T0 + SECOND)).remaining).toBe(10);
  });

  it('of 25 attempts arriving at once from one address, exactly 10 are let through to password verification', async () => {
    const keys = from('account:usr_concurrent', '192.0.2.30');
    const results = await Promise.all(Array.from({ length: 25 }, () => loginThrottle.attempt(env, keys, T0)));
    expect(results.filter((r) => !r.locked)).toHaveLength(10);
  });

  it('locks (fails closed) when the limiter is down', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = { ...env, RATE_LIMITER: failingLimiterNamespace() };
    expect(await loginThrottle.attempt(broken, from('account:x', '192.0.2.40'), T0)).toEqual({ locked: true, retryAfterS: 5 });
    spy.mockRestore();
  });

  it('counts a signed-in client (/auth/password) by its session, whatever address it uses', async () => {
    const keys = { account: 'account:usr_session', client: { sessionId: 'ses_stolen' } };
    for (let i = 0; i < 10; i++) expect((await loginThrottle.attempt(env, keys, T0)).locked).toBe(false);
    expect((await loginThrottle.attempt(env, keys, T0)).locked).toBe(true);
    expect((await loginThrottle.attempt(env, from('account:usr_session', '192.0.2.60'), T0)).locked).toBe(false);
  });

  it('attempt/succeeded keeps only failures counted, in both tiers', async () => {
    const keys = from('account:usr_attempt', '192.0.2.50');
    const ok = await loginThrottle.attempt(env, keys, T0);
    expect(ok.locked).toBe(false);
    await loginThrottle.succeeded(env, keys, ok.locked ? { client: null, account: null } : ok.counted);
    expect(decided(await peek(env, 'login-failures', 'account:usr_attempt:ip:192.0.2.50', T0 + 1)).remaining).toBe(10);
    expect(decided(await peek(env, 'login-failures-account', 'account:usr_attempt', T0 + 1)).remaining).toBe(100);
  });
});

describe('objects of the former one-object-per-key layout', () => {
  it('drops its old tables when it wakes (its alarm), instead of failing on them', async () => {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName('login-failures:account:usr_old_layout'));
    // Make the old layout inside the object, then tear it down so the next event constructs it again.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec('DROP TABLE IF EXISTS window_log');
      state.storage.sql.exec('CREATE TABLE hits (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL)');
      state.storage.sql.exec('CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)');
      state.storage.sql.exec('INSERT INTO hits (at_ms) VALUES (1)');
    });
    await evictDurableObject(stub);
    expect(await tablesOf(stub)).toEqual(['lazy_horizon', 'window_log']);
    expect((await stub.stats()).hitsStored).toBe(0);
  });
});

describe('shards of the earlier hits + windows layout', () => {
  const ask = (key: string) => ({ policy: 'auth-ip', key, limit: 20, windowMs: 60 * SECOND });
  it('moves every counted hit and audit marker into window_log when the shard starts, losing none', async () => {
    const stub = ownShard('migrate');
    const full = windowKey('auth-ip', 'migrate:full');
    const part = windowKey('auth-ip', 'migrate:part');
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec('DROP TABLE window_log');
      sql.exec('CREATE TABLE hits (k TEXT NOT NULL, at_ms INTEGER NOT NULL)');
      sql.exec('CREATE INDEX hits_by_key ON hits (k, at_ms)');
      sql.exec('CREATE TABLE windows (k TEXT PRIMARY KEY, audited_until_ms INTEGER NOT NULL, idle_at_ms INTEGER NOT NULL)');
      // A full window that was already audited, and one with three hits in one millisecond.
      for (let i = 0; i < 20; i++) sql.exec('INSERT INTO hits (k, at_ms) VALUES (?, ?)', full, T0 + i);
      sql.exec('INSERT INTO windows VALUES (?, ?, ?)', full, T0 + 20 + 60 * SECOND, T0 + 20 + 60 * SECOND);
      for (let i = 0; i < 3; i++) sql.exec('INSERT INTO hits (k, at_ms) VALUES (?, ?)', part, T0);
      sql.exec('INSERT INTO windows VALUES (?, 0, ?)', part, T0 + 60 * SECOND);
    });
    await evictDurableObject(stub);
    expect(await tablesOf(stub)).toEqual(['lazy_horizon', 'window_log']);
    expect(await stub.stats()).toMatchObject({ windowsStored: 2, hitsStored: 23 });
    // Still full: 200 concurrent asks admit none, and the migrated marker means no second audit.
    const verdicts = await Promise.all(Array.from({ length: 200 }, () => stub.decide('consume', [ask('migrate:full')], T0 + SECOND)));
    expect(verdicts.filter(([d]) => d?.admitted)).toHaveLength(0);
    expect(verdicts.filter(([d]) => d?.firstDenial)).toHaveLength(0);
    const [part1] = await stub.decide('consume', [ask('migrate:part')], T0 + SECOND);
    expect(part1).toMatchObject({ admitted: true, remaining: 16 });
    // The hits leave their windows as before: one slot frees as the oldest full hit expires.
    const [later] = await stub.decide('consume', [ask('migrate:full')], T0 + 60 * SECOND);
    expect(later).toMatchObject({ admitted: true, remaining: 0 });
  });

  it('merges the old tables into rows window_log already holds (a rollback and redeploy), and schedules their sweep', async () => {
    const stub = ownShard('migrate-twice');
    const both = windowKey('auth-ip', 'migrate:both');
    // Counted by the new layout: two hits at T0 and a first denial (limit 2).
    for (let i = 0; i < 3; i++) await stub.decide('consume', [{ ...ask('migrate:both'), limit: 2 }], T0);
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      await state.storage.deleteAlarm();
      sql.exec('CREATE TABLE hits (k TEXT NOT NULL, at_ms INTEGER NOT NULL)');
      sql.exec('CREATE TABLE windows (k TEXT PRIMARY KEY, audited_until_ms INTEGER NOT NULL, idle_at_ms INTEGER NOT NULL)');
      // Then by the old one, after a rollback: the same window and millisecond, and its own marker.
      sql.exec('INSERT INTO hits (k, at_ms) VALUES (?, ?)', both, T0);
      sql.exec('INSERT INTO windows VALUES (?, ?, ?)', both, T0 + 90 * SECOND, T0 + 90 * SECOND);
      sql.exec('INSERT INTO hits (k, at_ms) VALUES (?, ?)', windowKey('auth-ip', 'migrate:old'), T0);
      sql.exec('INSERT INTO windows VALUES (?, 0, ?)', windowKey('auth-ip', 'migrate:old'), T0 + 60 * SECOND);
    });
    await evictDurableObject(stub);
    expect(await tablesOf(stub)).toEqual(['lazy_horizon', 'window_log']);
    expect(await stub.stats()).toMatchObject({ windowsStored: 2, hitsStored: 4 });
    const marker = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ expires_ms: number }>('SELECT expires_ms FROM window_log WHERE k = ? AND at_ms = -1', both).one(),
    );
    expect(marker.expires_ms).toBe(T0 + 90 * SECOND);
    expect(await alarmOf(stub)).not.toBeNull(); // set by the constructor: the old rows had no sweep pending
  });
});
