import { MAX_WINDOW_S } from './policies';

/**
 * at_ms of a window's audit-marker row; counted hits are at real times (epoch ms, > 0), so
 * the marker sorts first among the window's rows.
 */
export const MARKER_AT = -1;

/**
 * How long a row is kept after it stopped counting. Decisions run on the caller's clock,
 * read before the call, so callers' clocks lag each other and the object's; a hit deleted
 * the moment it left the window on one clock could still count on another's. Kept this long,
 * it is gone only for callers less than this far apart, for whom it no longer counts either.
 */
export const LAG_MARGIN_MS = 5_000;

/**
 * A shard's storage: one table, one B-tree (`WITHOUT ROWID`, keyed by window and time), so
 * a counted hit writes one row, instead of a hit row, its index entry and a window row with
 * two index entries. Each row carries its own expiry, so cleanup needs no per-window
 * bookkeeping. Rows:
 *  - a counted hit: at_ms = its time, n = hits counted in that millisecond, expires_ms =
 *    when it leaves its window;
 *  - the audit marker: at_ms = MARKER_AT, n = 0, expires_ms = until when a denial of this
 *    window is not audited again.
 * Runs in the shard's constructor, before any event, so no decision sees an older layout.
 * Returns whether it moved rows from an older layout.
 */
export function createSchema(storage: DurableObjectStorage): boolean {
  const sql = storage.sql;
  const tables = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((row) => row.name),
  );
  // An object of the former one-object-per-key layout (tables hits(seq, at_ms) and meta) is
  // no longer addressed; when its cleanup alarm wakes it, drop its tables instead of failing.
  if (tables.has('meta')) {
    sql.exec('DROP TABLE IF EXISTS hits');
    sql.exec('DROP TABLE IF EXISTS meta');
    tables.delete('hits');
  }
  sql.exec(
    'CREATE TABLE IF NOT EXISTS window_log (k TEXT NOT NULL, at_ms INTEGER NOT NULL, n INTEGER NOT NULL, expires_ms INTEGER NOT NULL, PRIMARY KEY (k, at_ms)) WITHOUT ROWID',
  );
  sql.exec('CREATE TABLE IF NOT EXISTS lazy_horizon (policy TEXT PRIMARY KEY, until_ms INTEGER NOT NULL) WITHOUT ROWID');
  if (!tables.has('hits') && !tables.has('windows')) return false;
  storage.transactionSync(() => migrateWindowsLayout(sql, tables.has('hits'), tables.has('windows')));
  return true;
}

/**
 * Moves a shard of the earlier shard layout (hits(k, at_ms) + windows(k, audited_until_ms,
 * idle_at_ms)) into window_log in one transaction, so no counted hit is lost or counted
 * twice, merging with rows window_log may already hold (a version that ran before a
 * rollback). That layout did not store each hit's window, so a hit expires when its window
 * went idle (its newest hit's expiry): never earlier than it left its window, only later.
 */
function migrateWindowsLayout(sql: SqlStorage, hasHits: boolean, hasWindows: boolean): void {
  if (hasHits) {
    const idle = hasWindows ? '(SELECT w.idle_at_ms FROM windows w WHERE w.k = h.k)' : 'NULL';
    sql.exec(
      `INSERT INTO window_log (k, at_ms, n, expires_ms)
         SELECT h.k, h.at_ms, COUNT(*), COALESCE(${idle}, h.at_ms + ?) FROM hits h WHERE h.at_ms > ? GROUP BY h.k, h.at_ms
       ON CONFLICT (k, at_ms) DO UPDATE SET n = n + excluded.n, expires_ms = MAX(expires_ms, excluded.expires_ms)`,
      MAX_WINDOW_S * 1000,
      MARKER_AT,
    );
  }
  if (hasWindows) {
    sql.exec(
      `INSERT INTO window_log (k, at_ms, n, expires_ms)
         SELECT k, ?, 0, audited_until_ms FROM windows WHERE audited_until_ms > 0
       ON CONFLICT (k, at_ms) DO UPDATE SET expires_ms = MAX(expires_ms, excluded.expires_ms)`,
      MARKER_AT,
    );
  }
  sql.exec('DROP TABLE IF EXISTS hits');
  sql.exec('DROP TABLE IF EXISTS windows');
}

/**
 * The windows that have rows in SQLite, or null when there are more than `max` (then the
 * shard reads SQLite on every memory miss, as it would without the set).
 */
export function loadStoredKeys(sql: SqlStorage, max: number): Set<string> | null {
  const keys = sql
    .exec<{ k: string }>('SELECT DISTINCT k FROM window_log LIMIT ?', max + 1)
    .toArray()
    .map((row) => row.k);
  return keys.length > max ? null : new Set(keys);
}

/**
 * Per policy, the latest time up to which this shard may have admitted a first hit that is
 * held in memory only (docs/ratelimit.md "First hits"). One row per policy, never swept:
 * after a restart it is what stands in for the hits the lost memory held.
 */
export function loadLazyHorizons(sql: SqlStorage): Map<string, number> {
  const rows = sql.exec<{ policy: string; until_ms: number }>('SELECT policy, until_ms FROM lazy_horizon').toArray();
  return new Map(rows.map((row) => [row.policy, row.until_ms]));
}

export function storeLazyHorizon(sql: SqlStorage, policy: string, untilMs: number): void {
  sql.exec(
    'INSERT INTO lazy_horizon (policy, until_ms) VALUES (?, ?) ON CONFLICT (policy) DO UPDATE SET until_ms = MAX(until_ms, excluded.until_ms)',
    policy,
    untilMs,
  );
}

/** The earliest expiry of any stored row, or null when the shard stores nothing. */
export function earliestExpiry(sql: SqlStorage): number | null {
  return sql.exec<{ next: number | null }>('SELECT MIN(expires_ms) AS next FROM window_log').one().next;
}
