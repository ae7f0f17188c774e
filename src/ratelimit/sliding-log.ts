/**
 * Sliding-window log decision, pure. `hits` are the times (ms, ascending) of the admitted
 * hits still inside the window; the caller persists what this returns. A hit at time h
 * counts while h > now − windowMs, so at now = h + windowMs it has left the window.
 */

export interface WindowSpec {
  limit: number;
  windowMs: number;
}

export interface LogVerdict {
  admitted: boolean;
  /** Hits counted after this decision (the new hit included when admitted). */
  count: number;
  remaining: number;
  /** Milliseconds until the oldest counted hit leaves the window (0 when nothing is counted). */
  resetMs: number;
  /** Milliseconds until a request would be admitted; 0 when admitted. */
  retryAfterMs: number;
}

/** How many leading entries of `hits` have left the window at `now`. */
export function expiredCount(hits: readonly number[], now: number, windowMs: number): number {
  const cutoff = now - windowMs;
  let expired = 0;
  while (expired < hits.length && (hits[expired] ?? 0) <= cutoff) expired++;
  return expired;
}

/**
 * Decides over a log whose hits from index `from` on are inside the window (`from` =
 * expiredCount; the ones before it are kept a while longer but do not count). With a limit
 * lowered by configuration the log can hold more than `limit` hits; the next admission then
 * waits for enough of them to expire (the (count − limit)-th oldest), so a lowered limit
 * takes effect at once.
 */
export function decide(hits: readonly number[], now: number, spec: WindowSpec, count: boolean, from = 0): LogVerdict {
  const live = hits.length - from;
  const free = spec.limit - live;
  if (free > 0) {
    const after = count ? live + 1 : live;
    const oldest = hits[from] ?? (count ? now : undefined);
    return {
      admitted: true,
      count: after,
      remaining: spec.limit - after,
      resetMs: oldest === undefined ? 0 : oldest + spec.windowMs - now,
      retryAfterMs: 0,
    };
  }
  const blocking = hits[hits.length - spec.limit] ?? now;
  const waitMs = blocking + spec.windowMs - now;
  return { admitted: false, count: live, remaining: 0, resetMs: waitMs, retryAfterMs: waitMs };
}

/** Whole seconds for Retry-After / RateLimit-Reset: rounded up, so a client that waits this long is admitted. */
export function toWholeSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}
