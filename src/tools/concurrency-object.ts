import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

/** A waiting ticket not polled for this long is dropped (its caller gave up or died). */
export const QUEUE_TICKET_STALE_MS = 2_000;
/** At most this many calls wait per agent; more are refused at once. */
export const MAX_QUEUED_CALLS = 64;

export type AcquireVerdict = 'granted' | 'queued' | 'refused';

/**
 * ToolConcurrency: one object per agent holds the leases of that agent's running tool calls,
 * so `maxConcurrentTools` is exact across isolates and locations, and a FIFO queue of calls
 * waiting for a slot. `acquire` decides with synchronous SQLite calls and no await before the
 * decision: two concurrent calls cannot both take the last slot, and a free slot goes to the
 * oldest waiting ticket first. A lease expires on its own (timeout + grace) so a Worker that
 * died mid-call cannot hold a slot forever; a ticket expires when it is no longer polled.
 */
export class ToolConcurrency extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec('CREATE TABLE IF NOT EXISTS leases (id TEXT PRIMARY KEY, expires_at_ms INTEGER NOT NULL)');
    this.#sql.exec(
      'CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, enqueued_at_ms INTEGER NOT NULL, polled_at_ms INTEGER NOT NULL)',
    );
  }

  /**
   * Precedence: 1 malformed numbers → refused; 2 a free slot and no older waiting ticket →
   * granted (the ticket, if any, is removed); 3 `wait` false or the queue full → refused;
   * 4 otherwise queued (call again to poll; the ticket keeps its place).
   */
  acquire(leaseId: string, max: number, nowMs: number, ttlMs: number, wait = false): AcquireVerdict {
    if (!Number.isInteger(max) || max < 1 || !Number.isFinite(nowMs) || !Number.isFinite(ttlMs) || ttlMs < 1) return 'refused';
    this.#sql.exec('DELETE FROM leases WHERE expires_at_ms <= ?', nowMs);
    this.#sql.exec('DELETE FROM queue WHERE polled_at_ms <= ? AND id != ?', nowMs - QUEUE_TICKET_STALE_MS, leaseId);
    const held = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases').one().n;
    const head = this.#sql.exec<{ id: string }>('SELECT id FROM queue ORDER BY enqueued_at_ms, id LIMIT 1').toArray()[0]?.id;
    if (held < max && (head === undefined || head === leaseId)) {
      this.#sql.exec('DELETE FROM queue WHERE id = ?', leaseId);
      this.#sql.exec('INSERT OR REPLACE INTO leases (id, expires_at_ms) VALUES (?, ?)', leaseId, nowMs + ttlMs);
      return 'granted';
    }
    const queued = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM queue').one().n;
    const known = this.#sql.exec('SELECT 1 FROM queue WHERE id = ?', leaseId).toArray().length > 0;
    if (!wait || (!known && queued >= MAX_QUEUED_CALLS)) {
      this.#sql.exec('DELETE FROM queue WHERE id = ?', leaseId);
      return 'refused';
    }
    if (known) this.#sql.exec('UPDATE queue SET polled_at_ms = ? WHERE id = ?', nowMs, leaseId);
    else this.#sql.exec('INSERT INTO queue (id, enqueued_at_ms, polled_at_ms) VALUES (?, ?, ?)', leaseId, nowMs, nowMs);
    return 'queued';
  }

  /** Frees a slot, or withdraws a waiting ticket. */
  release(leaseId: string): void {
    this.#sql.exec('DELETE FROM leases WHERE id = ?', leaseId);
    this.#sql.exec('DELETE FROM queue WHERE id = ?', leaseId);
  }

  /** Unexpired leases (tests and health). */
  held(nowMs: number): number {
    return this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases WHERE expires_at_ms > ?', nowMs).one().n;
  }

  /** Waiting tickets (tests). */
  waiting(): number {
    return this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM queue').one().n;
  }
}
