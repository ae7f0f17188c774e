import { decide, expiredCount, type LogVerdict } from './sliding-log';
import { LAG_MARGIN_MS, MARKER_AT } from './window-schema';

/** One (policy, key) window as a shard keeps it in memory. */
export interface Entry {
  /** Admitted hit times, ascending. */
  hits: number[];
  auditedUntilMs: number;
  /**
   * At most the shortest window any stored hit's expiry was computed with (Infinity when
   * none is stored): a longer ask means RATE_LIMITS lengthened the window.
   */
  shortestWindowMs: number;
}

export interface ShardMemory {
  entries: Map<string, Entry>;
  hits: number;
  evicted: number;
  /**
   * Every window that has a row in SQLite (a superset is harmless: it only costs a read),
   * so a miss on a window outside it is known to be empty without reading SQLite; null when
   * it outgrew its bound, and then every miss reads SQLite.
   */
  stored: Set<string> | null;
}

/** How much a shard keeps in memory; what is not in memory is read back from SQLite on use. */
export interface MemoryBound {
  /** Windows whose hits are held. */
  keys: number;
  /** Hit times held over all those windows. */
  hits: number;
  /** Names of windows known to have stored rows. */
  storedKeys: number;
}

/**
 * Per shard: 256 windows, 16,384 hit times (8 bytes each) and 8,192 stored-window names
 * (≈ 100 bytes each): ≈ 1 MiB, ≈ 30 MiB over all 32 shards at most.
 */
export const SHARD_MEMORY: MemoryBound = { keys: 256, hits: 16_384, storedKeys: 8_192 };

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

export function emptyMemory(stored: Set<string> | null): ShardMemory {
  return { entries: new Map(), hits: 0, evicted: 0, stored };
}

/** Policy and key in one storage key; a newline cannot occur in a policy name. */
export function windowKey(policy: string, key: string): string {
  return `${policy}\n${key}`;
}

/**
 * The entry of `k`, from memory or read back from SQLite (synchronous: no other event runs
 * in between), marked most recently used. SQLite always holds every counted hit, so
 * dropping an entry from memory loses nothing; a window the shard knows has no rows (a new
 * client's) is not read at all.
 */
function entryFor(sql: SqlStorage, memory: ShardMemory, k: string): Entry {
  const cached = memory.entries.get(k);
  if (cached) {
    memory.entries.delete(k);
    memory.entries.set(k, cached);
    return cached;
  }
  const entry: Entry = { hits: [], auditedUntilMs: 0, shortestWindowMs: Infinity };
  if (memory.stored === null || memory.stored.has(k)) {
    // Primary-key order: the marker first, then the hits by time.
    for (const row of sql.exec<{ at_ms: number; n: number; expires_ms: number }>(
      'SELECT at_ms, n, expires_ms FROM window_log WHERE k = ? ORDER BY at_ms',
      k,
    )) {
      if (row.at_ms === MARKER_AT) {
        entry.auditedUntilMs = row.expires_ms;
        continue;
      }
      for (let i = 0; i < row.n; i++) entry.hits.push(row.at_ms);
      entry.shortestWindowMs = Math.min(entry.shortestWindowMs, row.expires_ms - row.at_ms);
    }
  }
  memory.entries.set(k, entry);
  memory.hits += entry.hits.length;
  return entry;
}

/** Records that `k` now has a stored row; past its bound the set is given up (every miss then reads). */
function noteStored(memory: ShardMemory, bound: MemoryBound, k: string): void {
  if (memory.stored === null) return;
  memory.stored.add(k);
  if (memory.stored.size > bound.storedKeys) memory.stored = null;
}

/** Forgets the window `k` in memory (SQLite keeps its rows; it is read back on its next use). */
export function dropEntry(memory: ShardMemory, k: string): void {
  const entry = memory.entries.get(k);
  if (!entry) return;
  memory.entries.delete(k);
  memory.hits -= entry.hits.length;
}

/** Drops least recently used entries (never `keep`) until the shard is within its bound. */
function evict(memory: ShardMemory, bound: MemoryBound, keep: string): void {
  for (const k of memory.entries.keys()) {
    if (memory.entries.size <= bound.keys && memory.hits <= bound.hits) return;
    if (k === keep) continue;
    dropEntry(memory, k);
    memory.evicted++;
  }
}

/**
 * Counts (consume) or reads (peek) one hit. Read, compare and write happen with no await,
 * and an object runs one event at a time, so concurrent callers can never both take the
 * last slot. `idleAtMs`: when the row it wrote expires, if it wrote one (for the alarm).
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
  // Hits that left the window no longer count, but are deleted only LAG_MARGIN_MS later: for
  // a caller whose clock lags this one's they may still count.
  const expired = expiredCount(entry.hits, at, ask.windowMs);
  const prunable = expiredCount(entry.hits, at - LAG_MARGIN_MS, ask.windowMs);
  if (prunable > 0) {
    // Only a window with traffic across its length gets here; a fresh key never does.
    sql.exec('DELETE FROM window_log WHERE k = ? AND at_ms > ? AND at_ms <= ?', k, MARKER_AT, at - LAG_MARGIN_MS - ask.windowMs);
    entry.hits.splice(0, prunable);
    memory.hits -= prunable;
  }
  if (entry.hits.length > 0 && ask.windowMs > entry.shortestWindowMs) {
    // RATE_LIMITS lengthened this window: its stored hits must not be swept at their old expiry.
    sql.exec(
      'UPDATE window_log SET expires_ms = at_ms + ? WHERE k = ? AND at_ms > ? AND expires_ms < at_ms + ?',
      ask.windowMs,
      k,
      MARKER_AT,
      ask.windowMs,
    );
    entry.shortestWindowMs = ask.windowMs;
  }
  const verdict = decide(entry.hits, at, { limit: ask.limit, windowMs: ask.windowMs }, op === 'consume', expired - prunable);
  let firstDenial = false;
  let idleAtMs: number | null = null;
  if (op === 'consume' && verdict.admitted) {
    entry.hits.push(at);
    entry.shortestWindowMs = Math.min(entry.shortestWindowMs, ask.windowMs);
    memory.hits++;
    idleAtMs = at + ask.windowMs;
    sql.exec(
      'INSERT INTO window_log (k, at_ms, n, expires_ms) VALUES (?, ?, 1, ?) ON CONFLICT (k, at_ms) DO UPDATE SET n = n + 1, expires_ms = MAX(expires_ms, excluded.expires_ms)',
      k,
      at,
      idleAtMs,
    );
    noteStored(memory, bound, k);
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
    noteStored(memory, bound, k);
  }
  evict(memory, bound, k);
  return { decision: { ...verdict, firstDenial, countedAtMs: op === 'consume' && verdict.admitted ? at : null }, idleAtMs };
}

/** Takes back one counted hit of (policy, key) made at `atMs`; false when there is none. */
export function refundHit(sql: SqlStorage, memory: ShardMemory, policy: string, key: string, atMs: number): boolean {
  const k = windowKey(policy, key);
  const entry = entryFor(sql, memory, k);
  const index = entry.hits.lastIndexOf(atMs);
  if (index >= 0) {
    // SQLite first: if a statement throws, memory still counts the hit (the side that refuses).
    sql.exec('UPDATE window_log SET n = n - 1 WHERE k = ? AND at_ms = ?', k, atMs);
    sql.exec('DELETE FROM window_log WHERE k = ? AND at_ms = ? AND n <= 0', k, atMs);
    entry.hits.splice(index, 1);
    memory.hits--;
  }
  evict(memory, SHARD_MEMORY, k);
  return index >= 0;
}
