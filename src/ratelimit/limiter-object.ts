import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { decide, expiredCount, type LogVerdict } from './sliding-log';

export interface LimiterDecision extends LogVerdict {
  /** The time the hit was counted at (after clamping), for refund(); null when nothing was counted. */
  countedAtMs: number | null;
  /** True on the first denial of this key within a window: the caller audits it (once per window). */
  firstDenial: boolean;
}

export type LimiterOp = 'consume' | 'peek';

const META_WINDOW_MS = 'window_ms';
const META_AUDITED_UNTIL_MS = 'audited_until_ms';
const META_ALARM_AT_MS = 'alarm_at_ms';

/**
 * One object per (policy, key), named `policy:key` (docs/ratelimit.md "Sharding"). It keeps
 * a sliding-window log of admitted hits: at most `limit` timestamps, in SQLite so they
 * survive eviction and restarts, mirrored in memory so a decision is a synchronous read,
 * compare and write with no await in between. The runtime delivers one event at a time to
 * an object, so no two decisions interleave and N concurrent requests admit exactly
 * min(N, limit). An alarm deletes the object's storage once every hit has expired.
 */
export class RateLimiter extends DurableObject<Env> {
  #hits: number[] = [];
  #auditedUntilMs = 0;
  #windowMs = 0;
  #alarmAtMs = 0;
  #schemaReady = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#load();
  }

  /** Reads stored state, if any. A key that is only peeked at never gets storage. */
  #load(): void {
    const sql = this.ctx.storage.sql;
    this.#schemaReady = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'hits'").toArray().length > 0;
    if (!this.#schemaReady) return;
    this.#hits = sql.exec<{ at_ms: number }>('SELECT at_ms FROM hits ORDER BY seq').toArray().map((row) => row.at_ms);
    const meta = new Map(sql.exec<{ name: string; value: number }>('SELECT name, value FROM meta').toArray().map((row) => [row.name, row.value]));
    this.#windowMs = meta.get(META_WINDOW_MS) ?? 0;
    this.#auditedUntilMs = meta.get(META_AUDITED_UNTIL_MS) ?? 0;
    this.#alarmAtMs = meta.get(META_ALARM_AT_MS) ?? 0;
  }

  #ensureSchema(): void {
    if (this.#schemaReady) return;
    const sql = this.ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS hits (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)');
    this.#schemaReady = true;
  }

  #setMeta(name: string, value: number): void {
    this.#ensureSchema();
    this.ctx.storage.sql.exec('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value', name, value);
  }

  #prune(now: number, windowMs: number): void {
    const expired = expiredCount(this.#hits, now, windowMs);
    if (expired === 0) return;
    this.#ensureSchema();
    // Rows are inserted in time order, so the expired ones are the lowest seqs: walking the
    // rowid b-tree from its start touches only them (no index on at_ms, no full scan).
    this.ctx.storage.sql.exec('DELETE FROM hits WHERE seq IN (SELECT seq FROM hits ORDER BY seq LIMIT ?)', expired);
    this.#hits.splice(0, expired);
  }

  /**
   * Counts (consume) or reads (peek) one hit at `now` under `limit` per `windowMs`. The
   * policy travels with each call, so a changed RATE_LIMITS applies on the next request.
   */
  async decide(op: LimiterOp, limit: number, windowMs: number, now: number): Promise<LimiterDecision> {
    // Callers' clocks may differ slightly; never let time run backwards inside one log.
    const at = Math.max(now, this.#hits.at(-1) ?? now);
    if (op === 'consume' && windowMs !== this.#windowMs) {
      this.#windowMs = windowMs;
      this.#setMeta(META_WINDOW_MS, windowMs);
    }
    this.#prune(at, windowMs);
    const verdict = decide(this.#hits, at, { limit, windowMs }, op === 'consume');
    let firstDenial = false;
    if (op === 'consume' && verdict.admitted) {
      this.#hits.push(at);
      this.#ensureSchema();
      this.ctx.storage.sql.exec('INSERT INTO hits (at_ms) VALUES (?)', at);
    } else if (op === 'consume' && at >= this.#auditedUntilMs) {
      firstDenial = true;
      this.#auditedUntilMs = at + windowMs;
      this.#setMeta(META_AUDITED_UNTIL_MS, this.#auditedUntilMs);
    }
    // Everything above ran without an await: the decision is already final and stored.
    if (op === 'consume' && this.#alarmAtMs === 0) await this.#scheduleCleanup(at);
    return { ...verdict, firstDenial, countedAtMs: op === 'consume' && verdict.admitted ? at : null };
  }

  /**
   * Takes back one counted hit made at `atMs` (a login attempt that succeeded). Returns
   * false when there is no such hit (already expired, or never counted).
   */
  async refund(atMs: number): Promise<boolean> {
    const index = this.#hits.lastIndexOf(atMs);
    if (index < 0) return false;
    this.#hits.splice(index, 1);
    this.ctx.storage.sql.exec('DELETE FROM hits WHERE seq = (SELECT seq FROM hits WHERE at_ms = ? ORDER BY seq DESC LIMIT 1)', atMs);
    return true;
  }

  /** The earliest moment this object could hold nothing worth keeping. */
  async #scheduleCleanup(now: number): Promise<void> {
    const newest = this.#hits.at(-1) ?? now;
    this.#alarmAtMs = Math.max(newest + this.#windowMs, this.#auditedUntilMs, now + 1);
    this.#setMeta(META_ALARM_AT_MS, this.#alarmAtMs);
    await this.ctx.storage.setAlarm(this.#alarmAtMs);
  }

  /**
   * Cleanup. Logical time is at least the time the alarm was set for: decisions run on the
   * caller's clock (injected in tests), the alarm on the runtime's.
   */
  override async alarm(): Promise<void> {
    const now = Math.max(Date.now(), this.#alarmAtMs);
    this.#prune(now, this.#windowMs);
    this.#alarmAtMs = 0;
    if (this.#hits.length === 0 && now >= this.#auditedUntilMs) {
      // Nothing left: drop all storage so an idle key costs nothing.
      await this.ctx.storage.deleteAll();
      this.#hits = [];
      this.#auditedUntilMs = 0;
      this.#windowMs = 0;
      this.#schemaReady = false;
      return;
    }
    await this.#scheduleCleanup(now);
  }
}
