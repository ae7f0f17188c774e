import type { Env } from '../env';

/**
 * Per-account login limiter (10 attempts that failed per 15 minutes). Every attempt is
 * counted *before* Argon2id runs and refunded when the password proves right, so of N
 * guesses arriving at once exactly the remaining budget run and the rest get 429: a
 * check-then-count limiter would let all N through its check. The implementation is the
 * `login-failures` policy of src/ratelimit (one RateLimiter Durable Object per account),
 * injected by src/index.ts; a failing limiter locks (fail closed).
 */
export interface LoginThrottle {
  attempt(env: Env, accountKey: string, now: number): Promise<{ locked: false; countedAtMs: number | null } | { locked: true; retryAfterS: number }>;
  succeeded(env: Env, accountKey: string, countedAtMs: number | null): Promise<void>;
}
