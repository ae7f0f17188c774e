/**
 * A token bucket as plain data, so its state can be stored where a closure cannot go (a
 * hibernatable WebSocket's attachment survives the object's eviction; a closure does not).
 * `perSecond` tokens flow in per second up to `burst`; each admitted message takes one.
 */
export interface TokenBucketRule {
  perSecond: number;
  burst: number;
}

export interface TokenBucketState {
  tokens: number;
  lastMs: number;
}

export function fullBucket(rule: TokenBucketRule, nowMs: number): TokenBucketState {
  if (!(rule.perSecond > 0) || !(rule.burst >= 1)) throw new RangeError('a token bucket needs perSecond > 0 and burst >= 1');
  return { tokens: rule.burst, lastMs: nowMs };
}

/** Refills for the time since `state.lastMs`, then takes one token if there is one. Pure. */
export function takeToken(state: TokenBucketState, rule: TokenBucketRule, nowMs: number): { allowed: boolean; state: TokenBucketState } {
  // A clock that steps back refills nothing rather than going negative.
  const elapsedMs = Math.max(0, nowMs - state.lastMs);
  const lastMs = Math.max(state.lastMs, nowMs);
  const tokens = Math.min(rule.burst, state.tokens + (elapsedMs * rule.perSecond) / 1000);
  if (tokens < 1) return { allowed: false, state: { tokens, lastMs } };
  return { allowed: true, state: { tokens: tokens - 1, lastMs } };
}
