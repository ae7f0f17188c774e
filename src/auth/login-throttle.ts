import type { Env } from '../env';

/**
 * Failed-login limiter per account (10 failures per 15 minutes). Checked before any
 * Argon2id work; only failures count. The implementation lives in src/ratelimit (a
 * RateLimiter Durable Object per account key) and is injected by src/app.ts.
 */
export interface LoginThrottle {
  /** Whether further attempts for this account are refused now, and for how long. */
  check(env: Env, accountKey: string, now: number): Promise<{ locked: false } | { locked: true; retryAfterS: number }>;
  /** Counts one failed attempt. */
  recordFailure(env: Env, accountKey: string, now: number): Promise<void>;
}
