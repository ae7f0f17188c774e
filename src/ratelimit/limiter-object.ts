import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { createSchema, loadLazyHorizons, loadStoredKeys } from './window-schema';
import {
  decideWindow,
  earlier,
  emptyMemory,
  refundHit,
  SHARD_MEMORY,
  type MemoryBound,
  type ShardMemory,
  type WindowAsk,
  type WindowDecision,
} from './window-store';
import { shardStats, sweepExpired, sweepTimeFor } from './window-sweep';

export type LimiterOp = 'consume' | 'peek';
export type LimiterDecision = WindowDecision;

/** One memory line per this many decisions (and on every alarm), so an operator can watch the bound hold. */
const STATS_EVERY = 256;

/**
 * One long-lived shard of the limiter (docs/ratelimit.md "Sharding"), named
 * `limiter-shard:<n>`: it owns the sliding-window logs of every (policy, key) whose key
 * hashes to it. Every counted hit but a window's first is written to SQLite in the same
 * synchronous step that decides it; a first hit is held in memory, covered by a stored
 * per-policy horizon that stands in for it after a restart, and written with the window's
 * next hit or when the window leaves memory (docs/ratelimit.md "First hits"). The windows
 * in use are kept in memory up to a bound (least recently used dropped first, read back
 * from SQLite when needed). The runtime delivers one event at a time to an object and a
 * decision has no await, so N concurrent requests for one key admit exactly min(N, limit). An alarm
 * deletes rows once they have expired (`window-sweep.ts`).
 */
export class RateLimiter extends DurableObject<Env> {
  readonly #memory: ShardMemory;
  #alarmAtMs = 0;
  #decisions = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const migrated = createSchema(ctx.storage);
    this.#memory = emptyMemory(loadStoredKeys(ctx.storage.sql, SHARD_MEMORY.storedKeys), loadLazyHorizons(ctx.storage.sql));
    void ctx.blockConcurrencyWhile(async () => {
      this.#alarmAtMs = (await ctx.storage.getAlarm()) ?? 0;
      // Rows moved from an older layout may have no sweep pending. Sweep now, on the runtime's
      // clock (getAlarm() is also null while an alarm is running, and a later time guessed here
      // must never become the sweep's clock): the sweep then schedules the next one itself.
      if (migrated && this.#alarmAtMs === 0) await this.#sweepAt(Date.now());
    });
  }

  /**
   * Decides the asks of one request in order, under each ask's own limit and window (the
   * policy travels with the call, so a changed RATE_LIMITS applies on the next request).
   * A consume stops at the first denial: later asks are not counted, as if they had been
   * checked one after the other. `bound` is the memory bound; tests pass a small one.
   */
  async decide(op: LimiterOp, asks: readonly WindowAsk[], now: number, bound: MemoryBound = SHARD_MEMORY): Promise<LimiterDecision[]> {
    const sql = this.ctx.storage.sql;
    const decisions: LimiterDecision[] = [];
    let firstExpiry: number | null = null;
    for (const ask of asks) {
      const result = decideWindow(sql, this.#memory, bound, op, ask, now);
      decisions.push(result.decision);
      firstExpiry = earlier(firstExpiry, result.idleAtMs);
      if (op === 'consume' && !result.decision.admitted) break;
    }
    // Everything above ran without an await: the decisions are final, and what they wrote
    // (hit rows, the horizon) is confirmed before the answer leaves.
    if (++this.#decisions % STATS_EVERY === 0) this.#logStats();
    await this.#sweepFor(firstExpiry);
    return decisions;
  }

  /** Takes back one counted hit made at `atMs` (a login attempt that succeeded); false when there is none. */
  async refund(policy: string, key: string, atMs: number): Promise<boolean> {
    const { refunded, idleAtMs } = refundHit(this.ctx.storage.sql, this.#memory, policy, key, atMs);
    await this.#sweepFor(idleAtMs);
    return refunded;
  }

  /**
   * A sweep is due for rows written that expire at `expiresAtMs`; move the alarm earlier only
   * when it is due sooner (a short window's row after a long one's), so steady traffic does not reset it.
   */
  async #sweepFor(expiresAtMs: number | null): Promise<void> {
    if (expiresAtMs === null) return;
    const due = sweepTimeFor(expiresAtMs);
    if (this.#alarmAtMs === 0 || due < this.#alarmAtMs) await this.#sweepAt(due);
  }

  /** Memory and storage held by this shard (RPC only: the Worker exposes no route for it). */
  async stats(): Promise<ReturnType<typeof shardStats>> {
    return shardStats(this.ctx.storage.sql, this.#memory);
  }

  #logStats(): void {
    // Memory figures only: counting stored rows would scan a table on the request path.
    const { entries, hits, evicted } = this.#memory;
    console.log(
      JSON.stringify({ level: 'info', event: 'ratelimit.shard.memory', keysInMemory: entries.size, hitsInMemory: hits, evicted }),
    );
  }

  /**
   * Cleanup, on the runtime's clock alone. Never on the time this instance last asked for:
   * that need not be the alarm now running (woken cold by it, getAlarm() was null; a write
   * during a retry's backoff asks for a later one), and a later clock would delete hits
   * that still count. An alarm never runs early, so the runtime's clock is never behind it.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    // None is pending while this one runs: if the sweep throws, the next decision sets one.
    this.#alarmAtMs = 0;
    const next = sweepExpired(this.ctx.storage.sql, this.#memory, now);
    this.#logStats();
    if (next !== null) await this.#sweepAt(Math.max(next, now + 1));
  }

  async #sweepAt(atMs: number): Promise<void> {
    this.#alarmAtMs = atMs;
    try {
      await this.ctx.storage.setAlarm(atMs);
    } catch (error) {
      this.#alarmAtMs = 0; // not set: the next write tries again
      throw error;
    }
  }
}
