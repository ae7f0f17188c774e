/**
 * Isolate-local "denied until T" verdicts (docs/ratelimit.md "Deny cache"). When a shard
 * denies a key, no hit of that key leaves its window before the moment the shard named
 * (the earliest admission, `retryAfterMs` from now), and denied requests add no hits, so
 * refusing the key here until then refuses only what the shard would refuse too. The
 * cache is one-way: it can answer "refused", never "admitted"; anything it does not hold
 * goes to the shard. Entries are keyed by the policy's limit and window as well, so a
 * changed RATE_LIMITS never reuses a verdict made under other numbers, and a refund (the
 * only way a slot frees early) drops the entry of its key in this isolate.
 */

/** Entries per isolate; past this, expired entries and then the oldest are dropped. */
export const DENY_CACHE_MAX_ENTRIES = 10_000;

interface Verdict {
  limit: number;
  windowMs: number;
  untilMs: number;
}

const deniedUntil = new Map<string, Verdict>();

const cacheKey = (policy: string, key: string) => `${policy}\n${key}`;

/** The moment until which (policy, key) is known to be refused under this limit and window, or null. */
export function cachedDenial(policy: string, key: string, limit: number, windowMs: number, now: number): number | null {
  const k = cacheKey(policy, key);
  const verdict = deniedUntil.get(k);
  if (!verdict) return null;
  if (verdict.limit === limit && verdict.windowMs === windowMs && now < verdict.untilMs) return verdict.untilMs;
  if (now >= verdict.untilMs) deniedUntil.delete(k);
  return null;
}

/** Remembers a shard's denial: refused until `untilMs` (the shard's earliest admission). */
export function rememberDenial(policy: string, key: string, limit: number, windowMs: number, untilMs: number, now: number): void {
  if (deniedUntil.size >= DENY_CACHE_MAX_ENTRIES) prune(now);
  deniedUntil.set(cacheKey(policy, key), { limit, windowMs, untilMs });
}

/** A refund freed a slot of (policy, key): forget the verdict about it in this isolate. */
export function forgetDenial(policy: string, key: string): void {
  deniedUntil.delete(cacheKey(policy, key));
}

/** How many verdicts this isolate holds (tests). */
export function denyCacheSize(): number {
  return deniedUntil.size;
}

function prune(now: number): void {
  for (const [k, verdict] of deniedUntil) if (verdict.untilMs <= now) deniedUntil.delete(k);
  // Still full: drop the oldest (Map keeps insertion order). Dropping only costs a round trip later.
  for (const k of deniedUntil.keys()) {
    if (deniedUntil.size < DENY_CACHE_MAX_ENTRIES) break;
    deniedUntil.delete(k);
  }
}
