import { decide, expiredCount, type LogVerdict } from './sliding-log';
import { MAX_WINDOW_S } from './policies';
import { LAG_MARGIN_MS, MARKER_AT, storeLazyHorizon } from './window-schema';

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
  /**
   * The window's one hit is held in memory only, with no row (a first hit, docs/ratelimit.md
   * "First hits"); it is written with the window's next hit or when the window leaves memory.
   */
  unsaved: boolean;
  /** The longest window any ask of this window used (0 before the first); an unsaved hit's row is written with it. */
  windowMs: number;
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
  /** Per policy, until when this instance may admit a first hit without a row (stored in lazy_horizon first). */
  horizon: Map<string, number>;
  /**
   * Per policy, the horizon stored when this instance started: any window with no stored
   * hit may have held one unsaved hit, at that time at the latest, in the memory a restart
   * lost. Such a window starts with that hit (a stand-in) until it would have left the window.
   */
  priorHorizon: Map<string, number>;
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
 * Per shard: 2,048 windows (≈ 340 bytes each with an IPv4 key, measured in V8), 16,384 hit
 * times (8 bytes each) and 4,096 stored-window names (≈ 180 bytes each): ≈ 1.5 MiB, ≈ 47 MiB
 * over all 32 shards at most. 2,048 windows hold a window's length plus the lag margin of
 * one-off keys (65 s under hooks-ip) at up to ≈ 1,000 new keys a second over the 32 shards,
 * so at that rate a first hit expires in memory instead of being written when it is evicted.
 */
export const SHARD_MEMORY: MemoryBound = { keys: 2_048, hits: 16_384, storedKeys: 4_096 };

/** Most windows past their last hit one decision drops from the memory's old end (dropExpired). */
const EXPIRED_PER_DECISION = 8;

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
 * How far ahead of a first hit the stored horizon is moved, so that a shard taking new keys
 * writes it about once a second per policy instead of once per key. A stand-in hit after a
 * restart sits at most this far after the real one (it expires at most this much later).
 */
export const LAZY_HORIZON_STEP_MS = 1_000;

export function emptyMemory(stored: Set<string> | null, horizons: ReadonlyMap<string, number> = new Map()): ShardMemory {
  return { entries: new Map(), hits: 0, evicted: 0, stored, horizon: new Map(horizons), priorHorizon: new Map(horizons) };
}

/** Policy and key in one storage key; a newline cannot occur in a policy name. */
export function windowKey(policy: string, key: string): string {
  return `${policy}\n${key}`;
}

/**
 * The entry of `k`, from memory or read back from SQLite (synchronous: no other event runs
 * in between), marked most recently used. SQLite holds every counted hit but an unsaved
 * first hit, and a window leaves memory only once that hit is written (evict) or counts for
 * no caller (dropExpired), so dropping an entry loses nothing; a window the shard knows has
 * no rows (a new client's) is not read at all, and after a restart starts with a stand-in.
 */
function entryFor(sql: SqlStorage, memory: ShardMemory, policy: string, k: string): Entry {
  const cached = memory.entries.get(k);
  if (cached) {
    memory.entries.delete(k);
    memory.entries.set(k, cached);
    return cached;
  }
  const entry: Entry = { hits: [], auditedUntilMs: 0, shortestWindowMs: Infinity, unsaved: false, windowMs: 0 };
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
  const prior = memory.priorHorizon.get(policy);
  if (entry.hits.length === 0 && prior !== undefined) {
    // The stand-in for an unsaved hit the previous instance may have admitted (at `prior` at the latest).
    entry.hits.push(prior);
    entry.unsaved = true;
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

/** Writes the row of an entry's unsaved hit; returns when it expires. */
function saveUnsaved(sql: SqlStorage, memory: ShardMemory, bound: MemoryBound, k: string, entry: Entry): number {
  const at = entry.hits[0] as number;
  const expiresMs = at + entry.windowMs;
  insertHit(sql, k, at, expiresMs);
  entry.unsaved = false;
  entry.shortestWindowMs = Math.min(entry.shortestWindowMs, entry.windowMs);
  noteStored(memory, bound, k);
  return expiresMs;
}

function insertHit(sql: SqlStorage, k: string, at: number, expiresMs: number): void {
  sql.exec(
    'INSERT INTO window_log (k, at_ms, n, expires_ms) VALUES (?, ?, 1, ?) ON CONFLICT (k, at_ms) DO UPDATE SET n = n + 1, expires_ms = MAX(expires_ms, excluded.expires_ms)',
    k,
    at,
    expiresMs,
  );
}

/** The earlier of two optional times (null: none). */
export const earlier = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * Whether the window's latest hit still counts for some caller at `now`: inside the longest
 * window asked plus the lag margin. One that does not may leave memory without a row.
 */
function stillCounts(entry: Entry, now: number): boolean {
  const last = entry.hits.at(-1);
  return last !== undefined && last + entry.windowMs + LAG_MARGIN_MS > now;
}

/**
 * Drops windows from the least recently used end while their last hit has left the window
 * plus the lag margin (it counts for no caller, so an unsaved one needs no row, and a saved
 * one is read back if used again), at most EXPIRED_PER_DECISION per call: each decision adds
 * at most one window, so memory holds the windows that still count rather than filling to
 * its bound, where eviction would write the unsaved hits still counting.
 */
function dropExpired(memory: ShardMemory, keep: string, now: number): void {
  let dropped = 0;
  for (const [k, entry] of memory.entries) {
    if (dropped === EXPIRED_PER_DECISION || k === keep || stillCounts(entry, now)) return;
    dropEntry(memory, k);
    dropped++;
  }
}

/**
 * Past the bound, drops least recently used entries (never `keep`) down to 7/8 of it, writing
 * the unsaved hits among them first (so dropping loses nothing), all in one step and so one
 * commit. Returns the earliest expiry of the rows it wrote, or null.
 */
function evict(sql: SqlStorage, memory: ShardMemory, bound: MemoryBound, keep: string, now: number): number | null {
  if (memory.entries.size <= bound.keys && memory.hits <= bound.hits) return null;
  const keys = bound.keys - (bound.keys >> 3);
  const hits = bound.hits - (bound.hits >> 3);
  let written: number | null = null;
  for (const [k, entry] of memory.entries) {
    if (memory.entries.size <= keys && memory.hits <= hits) break;
    if (k === keep) continue;
    // An unsaved hit already past its window and the lag margin counts for no caller: nothing to write.
    if (entry.unsaved && stillCounts(entry, now)) written = earlier(written, saveUnsaved(sql, memory, bound, k, entry));
    dropEntry(memory, k);
    memory.evicted++;
  }
  return written;
}

/**
 * Admits `at` as a window's first hit without a row if the stored horizon covers it,
 * moving the horizon first when it does not (the write that lets a restart stand in for
 * the hit; it is confirmed before the verdict leaves the shard).
 */
function holdUnsaved(sql: SqlStorage, memory: ShardMemory, policy: string, at: number): void {
  if (at <= (memory.horizon.get(policy) ?? -Infinity)) return;
  const until = at + LAZY_HORIZON_STEP_MS;
  storeLazyHorizon(sql, policy, until);
  memory.horizon.set(policy, until);
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
  const prior = memory.priorHorizon.get(ask.policy);
  // Past this, a stand-in would have left any window (the longest RATE_LIMITS allows, so an ask
  // under a shorter window never ends one another ask still needs): stop adding them.
  if (prior !== undefined && now - LAG_MARGIN_MS - MAX_WINDOW_S * 1000 >= prior) memory.priorHorizon.delete(ask.policy);
  const entry = entryFor(sql, memory, ask.policy, k);
  // The longest window any ask used: an unsaved hit's row must not expire before one of them.
  entry.windowMs = Math.max(entry.windowMs, ask.windowMs);
  // Callers' clocks may differ slightly; never let time run backwards inside one log.
  const at = Math.max(now, entry.hits.at(-1) ?? now);
  // Hits that left the window no longer count, but are deleted only LAG_MARGIN_MS later: for
  // a caller whose clock lags this one's they may still count.
  const expired = expiredCount(entry.hits, at, ask.windowMs);
  const prunable = expiredCount(entry.hits, at - LAG_MARGIN_MS, ask.windowMs);
  if (prunable > 0) {
    // Only a window with traffic across its length gets here; a fresh key never does.
    if (!entry.unsaved) {
      sql.exec('DELETE FROM window_log WHERE k = ? AND at_ms > ? AND at_ms <= ?', k, MARKER_AT, at - LAG_MARGIN_MS - ask.windowMs);
    }
    entry.hits.splice(0, prunable);
    memory.hits -= prunable;
    if (entry.hits.length === 0) entry.unsaved = false;
  }
  if (!entry.unsaved && entry.hits.length > 0 && ask.windowMs > entry.shortestWindowMs) {
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
    const first = entry.hits.length === 0;
    entry.hits.push(at);
    memory.hits++;
    if (first) {
      // A window's first hit is held in memory only: most keys (a client address) send one or few.
      holdUnsaved(sql, memory, ask.policy, at);
      entry.unsaved = true;
    } else {
      // The second hit writes the first one's row too: from here on every hit has a row.
      if (entry.unsaved) idleAtMs = saveUnsaved(sql, memory, bound, k, entry);
      entry.shortestWindowMs = Math.min(entry.shortestWindowMs, ask.windowMs);
      insertHit(sql, k, at, at + ask.windowMs);
      idleAtMs = earlier(idleAtMs, at + ask.windowMs);
      noteStored(memory, bound, k);
    }
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
  dropExpired(memory, k, at);
  idleAtMs = earlier(idleAtMs, evict(sql, memory, bound, k, at));
  return { decision: { ...verdict, firstDenial, countedAtMs: op === 'consume' && verdict.admitted ? at : null }, idleAtMs };
}

/**
 * Takes back one counted hit of (policy, key) made at `atMs`. `refunded` is false when there
 * is none; `idleAtMs` is the earliest expiry of rows written meanwhile (eviction), or null.
 */
export function refundHit(
  sql: SqlStorage,
  memory: ShardMemory,
  policy: string,
  key: string,
  atMs: number,
): { refunded: boolean; idleAtMs: number | null } {
  const k = windowKey(policy, key);
  const entry = entryFor(sql, memory, policy, k);
  const index = entry.hits.lastIndexOf(atMs);
  if (index >= 0) {
    if (!entry.unsaved) {
      // SQLite first: if a statement throws, memory still counts the hit (the side that refuses).
      sql.exec('UPDATE window_log SET n = n - 1 WHERE k = ? AND at_ms = ?', k, atMs);
      sql.exec('DELETE FROM window_log WHERE k = ? AND at_ms = ? AND n <= 0', k, atMs);
    }
    entry.hits.splice(index, 1);
    memory.hits--;
    if (entry.hits.length === 0) entry.unsaved = false;
  }
  return { refunded: index >= 0, idleAtMs: evict(sql, memory, SHARD_MEMORY, k, atMs) };
}
