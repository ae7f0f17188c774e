import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import app from '../../src/index';
import { DEFAULT_POLICIES, limiterShardName, MAX_LIMIT, windowKey, type PolicyName } from '../../src/ratelimit';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { vi } from 'vitest';
import type { Env } from '../../src/env';
import { aheadOfRealNow } from './clock';
import { ORIGIN } from './helpers';

/** Ahead of the real clock, so no alarm set for an injected time fires on its own (see ./clock). */
export const T0 = aheadOfRealNow();

/** Sends through the real Worker app with some bindings replaced, and waits for its waitUntil work. */
export async function sendWithEnv(path: string, overrides: Partial<Env>, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A RATE_LIMITER namespace whose objects always throw, as an overloaded or broken limiter would. */
export function failingLimiterNamespace(): Env['RATE_LIMITER'] {
  const failing = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: () => ({
      decide: () => Promise.reject(new Error('Durable Object is overloaded. Too many requests queued.')),
    }),
  };
  return failing as unknown as Env['RATE_LIMITER'];
}

export async function exceededEvents(key: string): Promise<{ policy: string; key: string; windowS: number }[]> {
  const { results } = await env.DB.prepare("SELECT data FROM audit_events WHERE kind = 'ratelimit.exceeded' ORDER BY seq").all<{
    data: string;
  }>();
  return results.map((row) => JSON.parse(row.data) as { policy: string; key: string; windowS: number }).filter((data) => data.key === key);
}

/** The limiter shard that owns `key` (the real one the Worker uses). */
export function shardStub(key: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(limiterShardName(key)));
}

/** A shard of a test's own (not one the Worker addresses), so no other test's windows share its alarm. */
export function ownShard(name: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`test-shard:${name}`));
}

/** The tables an object has made (the runtime's own `_cf_` tables left out), by name. */
export function tablesOf(stub: DurableObjectStub): Promise<string[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 4) <> '_cf_' ORDER BY name")
      .toArray()
      .map((row) => row.name),
  );
}

/** What the owning shard has stored for (policy, key): counted hits and whether it holds any row for the window. */
export async function storedWindow(policy: string, key: string): Promise<{ hits: number; windows: number }> {
  const k = windowKey(policy, key);
  return runInDurableObject(shardStub(key), (_instance, state) => shardRows(state.storage.sql, k));
}

/**
 * The hits the owning shard counts for (policy, key) at `now`, whether stored or held in
 * memory (a window's first hit has no row: docs/ratelimit.md "First hits"), read with a peek.
 */
export async function countedHits(policy: PolicyName, key: string, now = Date.now()): Promise<number> {
  const ask = { policy, key, limit: MAX_LIMIT, windowMs: DEFAULT_POLICIES[policy].windowS * 1000 };
  const [decision] = await shardStub(key).decide('peek', [ask], now);
  return decision?.count ?? -1;
}

/** Counted hits and windows in a shard's window_log, of one window or (no `k`) of the whole shard. */
export function shardRows(sql: SqlStorage, k?: string): { hits: number; windows: number } {
  const where = k === undefined ? '' : 'WHERE k = ?';
  const row = sql
    .exec<{ hits: number | null; windows: number }>(
      `SELECT SUM(CASE WHEN at_ms < 0 THEN 0 ELSE n END) AS hits, COUNT(DISTINCT k) AS windows FROM window_log ${where}`,
      ...(k === undefined ? [] : [k]),
    )
    .one();
  return { hits: row.hits ?? 0, windows: row.windows };
}

/**
 * Runs a shard's pending alarm now, with the isolate's clock (the shard's too: it runs in
 * this isolate) set to `atMs`, so a sweep acts at an injected instant as decisions do.
 */
export async function sweepAt(stub: DurableObjectStub, atMs: number): Promise<boolean> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(atMs);
  try {
    return await runDurableObjectAlarm(stub);
  } finally {
    vi.useRealTimers();
  }
}

/** When a shard's alarm is set for, or null. */
export function alarmOf(stub: DurableObjectStub): Promise<number | null> {
  return runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
}
