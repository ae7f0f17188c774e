import { MAX_WINDOW_S } from './policies';
import { decide, expiredCount, type LogVerdict } from './sliding-log';

/** One (policy, key) window as a shard keeps it in memory: admitted hit times, ascending. */
interface Entry {
  hits: number[];
  auditedUntilMs: number;
}

export interface ShardMemory {
  entries: Map<string, Entry>;
  hits: number;
  evicted: number;
}

/** How much of its windows a shard keeps in memory; the rest is read back from SQLite on use. */
export interface MemoryBound {
  keys: number;
  hits: number;
}

/** 256 windows or 16,384 hit times per shard (≈ 32 × 16,384 × 8 bytes ≈ 4 MiB over all shards at most). */
export const SHARD_MEMORY: MemoryBound = { keys: 256, hits: 16_384 };

export interface WindowAsk {
  policy: string;
  key: string;
  limit: number;
  windowMs: number;
}

export interface WindowDecision extends LogVerdict {
  /** The time the hit was counted at (after clamping), for refund(); null when nothing was counted. */
  countedAtMs: number | null;
  /** True on the first denial of this key within a window: the caller audits it (once per window). */
  firstDenial: boolean;
}

/**
 * at_ms of a window's audit-marker row; counted hits are at real times (epoch ms, > 0), so
 * the marker sorts first among the window's rows.
 */
const MARKER_AT = -1;

/**
 * One table, one B-tree (`WITHOUT ROWID`, keyed by window and time): a fresh key's counted
 * hit writes one row and reads one range, instead of a hit row, its index entry and a
 * window row with two index entries. Each row carries its own expiry, so cleanup needs no
 * per-window bookkeeping. Rows:
 *  - a counted hit: at_ms = its time, n = hits counted in that millisecond, expires_ms =
 *    when it leaves the window;
 *  - the audit marker: at_ms = MARKER_AT, n = 0, expires_ms = until when a denial of this
 *    window is not audited again.
 */
export function createSchema(storage: DurableObjectStorage): void {
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
  if (tables.has('windows')) storage.transactionSync(() => migrateWindowsLayout(sql));
}

/**
 * Moves a shard of the earlier shard layout (hits(k, at_ms) + windows(k, audited_until_ms,
 * idle_at_ms)) into window_log in one transaction, so no counted hit is lost or counted
 * twice. That layout did not store each hit's window, so a hit expires when its window went
 * idle (its newest hit's expiry): never earlier than it left the window, only later.
 */
function migrateWindowsLayout(sql: SqlStorage): void {
  sql.exec(
    `INSERT INTO window_log (k, at_ms, n, expires_ms)
       SELECT h.k, h.at_ms, COUNT(*), COALESCE(MAX(w.idle_at_ms), h.at_ms + ?)
       FROM hits h LEFT JOIN windows w ON w.k = h.k
       WHERE h.at_ms > 0
       GROUP BY h.k, h.at_ms`,
    MAX_WINDOW_S * 1000,
  );
  sql.exec(
    'INSERT INTO window_log (k, at_ms, n, expires_ms) SELECT k, ?, 0, audited_until_ms FROM windows WHERE audited_until_ms > 0',
    MARKER_AT,
  );
  sql.exec('DROP TABLE hits');
  sql.exec('DROP TABLE windows');
}

export function emptyMemory(): ShardMemory {
  return { entries: new Map(), hits: 0, evicted: 0 };
}

/** Policy and key in one storage key; a newline cannot occur in a policy name. */
export function windowKey(policy: string, key: string): string {
  return `${policy}\n${key}`;
}

/**
 * The entry of `k`, from memory or read back from SQLite (synchronous: no other event runs
 * in between), marked most recently used. SQLite always holds every counted hit, so
 * dropping an entry from memory loses nothing.
 */
function entryFor(sql: SqlStorage, memory: ShardMemory, k: string): Entry {
  const cached = memory.entries.get(k);
  if (cached) {
    memory.entries.delete(k);
    memory.entries.set(k, cached);
    return cached;
  }
  const entry: Entry = { hits: [], auditedUntilMs: 0 };
  // Primary-key order: the marker first, then the hits by time.
  for (const row of sql.exec<{ at_ms: number; n: number; expires_ms: number }>(
    'SELECT at_ms, n, expires_ms FROM window_log WHERE k = ? ORDER BY at_ms',
    k,
  )) {
    if (row.at_ms === MARKER_AT) entry.auditedUntilMs = row.expires_ms;
    else for (let i = 0; i < row.n; i++) entry.hits.push(row.at_ms);
  }
  memory.entries.set(k, entry);
  memory.hits += entry.hits.length;
  return entry;
}

/** Drops least recently used entries (never `keep`) until the shard is within its bound. */
function evict(memory: ShardMemory, bound: MemoryBound, keep: string): void {
  for (const [k, entry] of memory.entries) {
    if (memory.entries.size <= bound.keys && memory.hits <= bound.hits) return;
    if (k === keep) continue;
    memory.entries.delete(k);
    memory.hits -= entry.hits.length;
    memory.evicted++;
  }
}

/**
 * Counts (consume) or reads (peek) one hit. Read, compare and write happen with no await,
 * and an object runs one event at a time, so concurrent callers can never both take the
 * last slot. Returns when what it wrote expires, when it wrote anything (for the alarm).
 */
export function decideWindow(
  sql: SqlStorage,
  memory: ShardMemory,
  bound: MemoryBound,
  op: 'consume' | 'peek',
  ask: WindowAsk,
  now: number,
): { decision: WindowDecision; idleAtMs: number | null } {
  const k = windowKey(ask.policy, ask.key);
  const entry = entryFor(sql, memory, k);
  // Callers' clocks may differ slightly; never let time run backwards inside one log.
  const at = Math.max(now, entry.hits.at(-1) ?? now);
  const expired = expiredCount(entry.hits, at, ask.windowMs);
  if (expired > 0) {
    // Only a window with traffic across its length gets here; a fresh key never does.
    sql.exec('DELETE FROM window_log WHERE k = ? AND at_ms BETWEEN 0 AND ?', k, at - ask.windowMs);
    entry.hits.splice(0, expired);
    memory.hits -= expired;
  }
  const verdict = decide(entry.hits, at, { limit: ask.limit, windowMs: ask.windowMs }, op === 'consume');
  let firstDenial = false;
  let idleAtMs: number | null = null;
  if (op === 'consume' && verdict.admitted) {
    entry.hits.push(at);
    memory.hits++;
    idleAtMs = at + ask.windowMs;
    sql.exec(
      'INSERT INTO window_log (k, at_ms, n, expires_ms) VALUES (?, ?, 1, ?) ON CONFLICT (k, at_ms) DO UPDATE SET n = n + 1, expires_ms = MAX(expires_ms, excluded.expires_ms)',
      k,
      at,
      idleAtMs,
    );
  } else if (op === 'consume' && at >= entry.auditedUntilMs) {
    firstDenial = true;
    entry.auditedUntilMs = at + ask.windowMs;
    idleAtMs = entry.auditedUntilMs;
    sql.exec(
      'INSERT INTO window_log (k, at_ms, n, expires_ms) VALUES (?, ?, 0, ?) ON CONFLICT (k, at_ms) DO UPDATE SET expires_ms = excluded.expires_ms',
      k,
      MARKER_AT,
      idleAtMs,
    );
  }
  evict(memory, bound, k);
  return { decision: { ...verdict, firstDenial, countedAtMs: op === 'consume' && verdict.admitted ? at : null }, idleAtMs };
}

/** Takes back one counted hit of (policy, key) made at `atMs`; false when there is none. */
export function refundHit(sql: SqlStorage, memory: ShardMemory, policy: string, key: string, atMs: number): boolean {
  const k = windowKey(policy, key);
  const entry = entryFor(sql, memory, k);
  const index = entry.hits.lastIndexOf(atMs);
  if (index < 0) return false;
  entry.hits.splice(index, 1);
  memory.hits--;
  sql.exec('UPDATE window_log SET n = n - 1 WHERE k = ? AND at_ms = ?', k, atMs);
  sql.exec('DELETE FROM window_log WHERE k = ? AND at_ms = ? AND n <= 0', k, atMs);
  return true;
}

/** Most rows one alarm run deletes; the next run picks up the rest. */
const SWEEP_BATCH = 2_000;

/**
 * Least time between two sweeps while rows remain. A sweep scans the table (there is no
 * expiry index: keeping one would double the writes of every counted hit), so it must not
 * run on every row's expiry; a row outlives its expiry by at most this long.
 */
export const SWEEP_GAP_MS = 5_000;

/**
 * Deletes every row that has expired at `now` (from SQLite; the windows it touched are
 * dropped from memory and read back on their next use) and returns when to sweep next, or
 * null when the shard holds nothing.
 */
export function sweepExpired(sql: SqlStorage, memory: ShardMemory, now: number): number | null {
  const swept = sql
    .exec<{ k: string }>(
      'DELETE FROM window_log WHERE (k, at_ms) IN (SELECT k, at_ms FROM window_log WHERE expires_ms <= ? LIMIT ?) RETURNING k',
      now,
      SWEEP_BATCH,
    )
    .toArray();
  for (const { k } of swept) {
    const entry = memory.entries.get(k);
    if (entry) {
      memory.entries.delete(k);
      memory.hits -= entry.hits.length;
    }
  }
  if (swept.length === SWEEP_BATCH) return now + 1;
  const next = sql.exec<{ next: number | null }>('SELECT MIN(expires_ms) AS next FROM window_log').one().next;
  return next === null ? null : Math.max(next, now + SWEEP_GAP_MS);
}

/** What the shard holds, for tests and operators (scans the table: never on the request path). */
export function shardStats(
  sql: SqlStorage,
  memory: ShardMemory,
): { keysInMemory: number; hitsInMemory: number; evicted: number; windowsStored: number; hitsStored: number } {
  const stored = sql
    .exec<{ windows: number; hits: number | null }>(
      'SELECT COUNT(DISTINCT k) AS windows, SUM(CASE WHEN at_ms = ? THEN 0 ELSE n END) AS hits FROM window_log',
      MARKER_AT,
    )
    .one();
  return {
    keysInMemory: memory.entries.size,
    hitsInMemory: memory.hits,
    evicted: memory.evicted,
    windowsStored: stored.windows,
    hitsStored: stored.hits ?? 0,
  };
}
