import { earliestExpiry, LAG_MARGIN_MS, loadStoredKeys, MARKER_AT } from './window-schema';
import { dropEntry, SHARD_MEMORY, type ShardMemory } from './window-store';

/** Most rows one alarm run deletes; the next run picks up the rest. */
const SWEEP_BATCH = 2_000;

/**
 * Least time between two sweeps while rows remain. A sweep scans the table (there is no
 * expiry index: keeping one would double the writes of every counted hit), so it must not
 * run on every row's expiry.
 */
export const SWEEP_GAP_MS = 5_000;

/** When to sweep for a row that expires at `expiresAtMs`. */
export function sweepTimeFor(expiresAtMs: number): number {
  return expiresAtMs + LAG_MARGIN_MS;
}

/**
 * Deletes every row that expired at least LAG_MARGIN_MS before `now`, takes the deleted
 * hits out of the windows held in memory (so memory and SQLite keep agreeing) and forgets
 * windows left with no row; returns when to sweep next, or null when the shard holds nothing.
 */
export function sweepExpired(sql: SqlStorage, memory: ShardMemory, now: number): number | null {
  const swept = sql
    .exec<{ k: string; at_ms: number }>(
      'DELETE FROM window_log WHERE (k, at_ms) IN (SELECT k, at_ms FROM window_log WHERE expires_ms <= ? LIMIT ?) RETURNING k, at_ms',
      now - LAG_MARGIN_MS,
      SWEEP_BATCH,
    )
    .toArray();
  const byWindow = new Map<string, Set<number>>();
  for (const { k, at_ms } of swept) byWindow.set(k, (byWindow.get(k) ?? new Set()).add(at_ms));
  for (const [k, times] of byWindow) {
    const empty = sql.exec('SELECT 1 FROM window_log WHERE k = ? LIMIT 1', k).toArray().length === 0;
    if (empty) memory.stored?.delete(k);
    const entry = memory.entries.get(k);
    if (!entry) continue;
    // An entry with an unsaved hit holds a hit no row does: only memory has it, so it stays.
    if (empty && !entry.unsaved) {
      dropEntry(memory, k);
      continue;
    }
    if (times.has(MARKER_AT)) entry.auditedUntilMs = 0;
    if (entry.unsaved) continue; // none of the swept rows is its hit
    const kept = entry.hits.filter((at) => !times.has(at));
    memory.hits -= entry.hits.length - kept.length;
    entry.hits = kept;
  }
  // A set given up under load is rebuilt once the shard holds few enough windows again.
  if (memory.stored === null) memory.stored = loadStoredKeys(sql, SHARD_MEMORY.storedKeys);
  if (swept.length === SWEEP_BATCH) return now + 1;
  const next = earliestExpiry(sql);
  return next === null ? null : Math.max(sweepTimeFor(next), now + SWEEP_GAP_MS);
}

/** What the shard holds, for tests and operators (scans the table: never on the request path). */
export function shardStats(
  sql: SqlStorage,
  memory: ShardMemory,
): {
  keysInMemory: number;
  hitsInMemory: number;
  evicted: number;
  /** Windows whose one hit is held in memory only (docs/ratelimit.md "First hits"). */
  unsavedWindows: number;
  storedKeysKnown: number | null;
  windowsStored: number;
  hitsStored: number;
} {
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
    unsavedWindows: [...memory.entries.values()].filter((entry) => entry.unsaved).length,
    storedKeysKnown: memory.stored?.size ?? null,
    windowsStored: stored.windows,
    hitsStored: stored.hits ?? 0,
  };
}
