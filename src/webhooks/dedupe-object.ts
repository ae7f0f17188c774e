import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { Platform } from './inbound';

/** `invalid`: the key or times were out of range; the event is not processed (fail closed). */
export type DedupeVerdict = 'first' | 'duplicate' | 'invalid';

/**
 * How long an event key is remembered, per platform:
 * - discord: interactions are not retried; the window only has to outlast the 5-minute
 *   timestamp window (a replayed signed request inside it) with room for clock skew, and
 *   matches the 15-minute life of an interaction token.
 * - slack: retries come after ~0 s, 1 min and 5 min, each freshly signed; one hour covers
 *   them and a slow first attempt.
 * - telegram: undelivered updates are kept "not longer than 24 hours" and retried until then.
 */
export const DEDUPE_WINDOW_MS: Readonly<Record<Platform, number>> = {
  discord: 15 * 60 * 1000,
  slack: 60 * 60 * 1000,
  telegram: 24 * 60 * 60 * 1000,
};

/** Keys kept per connector; past this the oldest are evicted first. */
export const DEDUPE_MAX_KEYS = 10_000;
const MAX_EVENT_KEY_CHARS = 256;
const MAX_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * One object per connector remembers which event keys (Slack event_id, Telegram update_id,
 * Discord interaction id) it has already accepted. `seen` decides with synchronous SQLite
 * calls and no await before the decision, so two concurrent deliveries of one event cannot
 * both be `first`: the object runs one event at a time until it awaits.
 */
export class WebhookDedupe extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  #count: number;
  /** The alarm as last set or read (null: none), so a first-seen event costs no storage call to check it. */
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS seen_events (
      event_key TEXT PRIMARY KEY,
      first_seen_ms INTEGER NOT NULL,
      expires_at_ms INTEGER NOT NULL
    )`);
    this.#sql.exec('CREATE INDEX IF NOT EXISTS seen_events_by_first_seen ON seen_events (first_seen_ms)');
    this.#sql.exec('CREATE INDEX IF NOT EXISTS seen_events_by_expiry ON seen_events (expires_at_ms)');
    this.#count = this.#countRows();
    void ctx.blockConcurrencyWhile(async () => {
      this.#alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** `now` is epoch milliseconds from the caller. */
  seen(eventKey: string, now: number, windowMs: number): Promise<DedupeVerdict> {
    return this.record(eventKey, now, windowMs, DEDUPE_MAX_KEYS);
  }

  /** `seen` with the size cap as a parameter, so tests can reach eviction quickly. */
  async record(eventKey: string, now: number, windowMs: number, maxKeys: number): Promise<DedupeVerdict> {
    if (typeof eventKey !== 'string' || eventKey.length === 0 || eventKey.length > MAX_EVENT_KEY_CHARS) return 'invalid';
    if (!Number.isSafeInteger(now) || !Number.isSafeInteger(windowMs) || windowMs <= 0 || windowMs > MAX_WINDOW_MS) return 'invalid';
    const verdict = this.#decide(eventKey, now, now + windowMs, maxKeys);
    if (verdict === 'first') await this.#ensureAlarmBy(now + windowMs);
    return verdict;
  }

  /** Synchronous on purpose: see the class comment. */
  #decide(eventKey: string, now: number, expiresAt: number, maxKeys: number): DedupeVerdict {
    const existing = this.#sql
      .exec<{ expires_at_ms: number }>('SELECT expires_at_ms FROM seen_events WHERE event_key = ?', eventKey)
      .toArray()[0];
    if (existing && existing.expires_at_ms > now) return 'duplicate';
    if (existing) {
      this.#sql.exec('UPDATE seen_events SET first_seen_ms = ?, expires_at_ms = ? WHERE event_key = ?', now, expiresAt, eventKey);
    } else {
      this.#sql.exec('INSERT INTO seen_events (event_key, first_seen_ms, expires_at_ms) VALUES (?, ?, ?)', eventKey, now, expiresAt);
      this.#count++;
    }
    if (this.#count > maxKeys) {
      this.#sql.exec(
        'DELETE FROM seen_events WHERE event_key IN (SELECT event_key FROM seen_events ORDER BY first_seen_ms, rowid LIMIT ?)',
        this.#count - maxKeys,
      );
      // #count is exact, so exactly the surplus went; a COUNT(*) here would scan the table on every event past the cap.
      this.#count = maxKeys;
    }
    return 'first';
  }

  async #ensureAlarmBy(at: number): Promise<void> {
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** Drops expired keys and re-arms the alarm for the next expiry. */
  async expire(now: number): Promise<void> {
    this.#sql.exec('DELETE FROM seen_events WHERE expires_at_ms <= ?', now);
    this.#count = this.#countRows();
    const next = this.#sql.exec<{ next: number | null }>('SELECT MIN(expires_at_ms) AS next FROM seen_events').one().next;
    // A run alarm is cleared; the next one (if any) is the earliest expiry left.
    this.#alarmAt = next;
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  override async alarm(): Promise<void> {
    // The platform calls this with no arguments; the clock is read here, at the edge.
    await this.expire(Date.now());
  }

  /** Number of keys held (tests and operators). */
  size(): number {
    return this.#count;
  }

  #countRows(): number {
    return this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM seen_events').one().n;
  }
}

/** The bindings dedupe needs. */
export type DedupeBindings = Pick<Env, 'WEBHOOK_DEDUPE'>;

/** One object per connector: dedupe windows of different connectors never mix. */
export function markSeen(
  env: DedupeBindings,
  platform: Platform,
  connectorId: string,
  eventKey: string,
  now: number,
): Promise<DedupeVerdict> {
  const stub = env.WEBHOOK_DEDUPE.get(env.WEBHOOK_DEDUPE.idFromName(`${platform}:${connectorId}`));
  return stub.seen(eventKey, now, DEDUPE_WINDOW_MS[platform]);
}
