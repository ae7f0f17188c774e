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

export function createSchema(sql: SqlStorage): void {
  // An object of the former one-object-per-key layout (tables hits(seq, at_ms) and meta) is
  // no longer addressed; when its cleanup alarm wakes it, drop its tables instead of failing.
  if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0) {
    sql.exec('DROP TABLE IF EXISTS hits');
    sql.exec('DROP TABLE IF EXISTS meta');
  }
  sql.exec('CREATE TABLE IF NOT EXISTS hits (k TEXT NOT NULL, at_ms INTEGER NOT NULL)');
  sql.exec('CREATE INDEX IF NOT EXISTS hits_by_key ON hits (k, at_ms)');
  // idle_at_ms: when the window holds nothing worth keeping (newest hit expired, audit marker past).
  sql.exec('CREATE TABLE IF NOT EXISTS windows (k TEXT PRIMARY KEY, audited_until_ms INTEGER NOT NULL, idle_at_ms INTEGER NOT NULL)');
  sql.exec('CREATE INDEX IF NOT EXISTS windows_by_idle ON windows (idle_at_ms)');
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
  const hits = sql
    .exec<{ at_ms: number }>('SELECT at_ms FROM hits WHERE k = ? ORDER BY at_ms', k)
    .toArray()
    .map((row) => row.at_ms);
  const marker = sql.exec<{ audited_until_ms: number }>('SELECT audited_until_ms FROM windows WHERE k = ?', k).toArray()[0];
  const entry = { hits, auditedUntilMs: marker?.audited_until_ms ?? 0 };
  memory.entries.set(k, entry);
  memory.hits += hits.length;
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

function storeWindow(sql: SqlStorage, k: string, entry: Entry, windowMs: number): void {
  const idleAt = Math.max((entry.hits.at(-1) ?? 0) + windowMs, entry.auditedUntilMs);
  sql.exec(
    'INSERT INTO windows (k, audited_until_ms, idle_at_ms) VALUES (?, ?, ?) ON CONFLICT(k) DO UPDATE SET audited_until_ms = excluded.audited_until_ms, idle_at_ms = MAX(windows.idle_at_ms, excluded.idle_at_ms)',
    k,
    entry.auditedUntilMs,
    idleAt,
  );
}

/**
 * Counts (consume) or reads (peek) one hit. Read, compare and write happen with no await,
 * and an object runs one event at a time, so concurrent callers can never both take the
 * last slot. Returns the moment the window goes idle when it wrote anything (for the alarm).
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
    sql.exec('DELETE FROM hits WHERE k = ? AND at_ms <= ?', k, at - ask.windowMs);
    entry.hits.splice(0, expired);
    memory.hits -= expired;
  }
  const verdict = decide(entry.hits, at, { limit: ask.limit, windowMs: ask.windowMs }, op === 'consume');
  let firstDenial = false;
  let idleAtMs: number | null = null;
  if (op === 'consume' && verdict.admitted) {
    entry.hits.push(at);
    memory.hits++;
    sql.exec('INSERT INTO hits (k, at_ms) VALUES (?, ?)', k, at);
    storeWindow(sql, k, entry, ask.windowMs);
    idleAtMs = at + ask.windowMs;
  } else if (op === 'consume' && at >= entry.auditedUntilMs) {
    firstDenial = true;
    entry.auditedUntilMs = at + ask.windowMs;
    storeWindow(sql, k, entry, ask.windowMs);
    idleAtMs = entry.auditedUntilMs;
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
  sql.exec('DELETE FROM hits WHERE rowid = (SELECT rowid FROM hits WHERE k = ? AND at_ms = ? LIMIT 1)', k, atMs);
  return true;
}

/** Most windows one alarm run deletes; the next run picks up the rest. */
const SWEEP_BATCH = 2_000;

/**
 * Deletes every window that is idle at `now` (memory and SQLite) and returns when the next
 * one goes idle, or null when the shard holds nothing.
 */
export function sweepIdle(sql: SqlStorage, memory: ShardMemory, now: number): number | null {
  const idle = sql
    .exec<{ k: string }>('SELECT k FROM windows WHERE idle_at_ms <= ? ORDER BY idle_at_ms LIMIT ?', now, SWEEP_BATCH)
    .toArray();
  for (const { k } of idle) {
    sql.exec('DELETE FROM hits WHERE k = ?', k);
    sql.exec('DELETE FROM windows WHERE k = ?', k);
    const entry = memory.entries.get(k);
    if (entry) {
      memory.entries.delete(k);
      memory.hits -= entry.hits.length;
    }
  }
  if (idle.length === SWEEP_BATCH) return now + 1;
  const next = sql.exec<{ next: number | null }>('SELECT MIN(idle_at_ms) AS next FROM windows').one().next;
  return next ?? null;
}

/** What the shard holds, for its memory log line and for tests. */
export function shardStats(
  sql: SqlStorage,
  memory: ShardMemory,
): { keysInMemory: number; hitsInMemory: number; evicted: number; windowsStored: number; hitsStored: number } {
  return {
    keysInMemory: memory.entries.size,
    hitsInMemory: memory.hits,
    evicted: memory.evicted,
    windowsStored: sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM windows').one().n,
    hitsStored: sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM hits').one().n,
  };
}
