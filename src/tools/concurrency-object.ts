import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

/**
 * ToolConcurrency: one object per agent holds the leases of that agent's running tool calls,
 * so `maxConcurrentTools` is exact across isolates and locations. `acquire` decides with
 * synchronous SQLite calls and no await before the decision: two concurrent calls cannot both
 * take the last slot. A lease expires on its own (timeout + grace) so a Worker that died
 * mid-call cannot hold a slot forever.
 */
export class ToolConcurrency extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec('CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires_at_ms INTEGER NOT NULL)');
  }

  /** Takes a slot for `leaseId` if fewer than `max` unexpired leases are held. */
  acquire(leaseId: string, max: number, nowMs: number, ttlMs: number): boolean {
    if (!Number.isInteger(max) || max < 1 || !Number.isFinite(nowMs) || !Number.isFinite(ttlMs) || ttlMs < 1) return false;
    this.#sql.exec('DELETE FROM leases WHERE expires_at_ms <= ?', nowMs);
    const held = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases').one().n;
    if (held >= max) return false;
    this.#sql.exec('INSERT OR REPLACE INTO leases (id, expires_at_ms) VALUES (?, ?)', leaseId, nowMs + ttlMs);
    return true;
  }

  release(leaseId: string): void {
    this.#sql.exec('DELETE FROM leases WHERE id = ?', leaseId);
  }

  /** Unexpired leases (tests and health). */
  held(nowMs: number): number {
    return this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases WHERE expires_at_ms > ?', nowMs).one().n;
  }
}
