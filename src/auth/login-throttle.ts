import type { Env } from '../env';

/**
 * Who an attempt is counted against: the account (email tag), and the client: its address
 * for a login, the session for `/auth/password` (whose caller is already signed in and
 * cannot switch sessions without the password, but can switch addresses).
 */
export interface LoginAttemptKeys {
  account: string;
  client: { ip: string } | { sessionId: string };
}

/** When `attempt` counted each tier (pass back to `succeeded`); null where nothing was counted. */
export interface LoginAttemptCounted {
  client: number | null;
  account: number | null;
}

/**
 * Login limiter in two tiers, both counted *before* Argon2id runs and refunded when the
 * password proves right, so of N guesses arriving at once exactly the remaining budget run
 * and the rest get 429 (a check-then-count limiter would let all N through its check):
 * 1. per (account, client), 10 failures per 15 minutes: an address guessing at an account
 *    locks out only itself, never the owner signing in from elsewhere;
 * 2. per account over all addresses, 100 per 15 minutes: the ceiling against guessing from
 *    many addresses; an attempt refused by tier 1 is not counted here, so no single address
 *    can reach it alone.
 * The implementation is the `login-failures` and `login-failures-account` policies of
 * src/ratelimit (one RateLimiter Durable Object per key), injected by src/index.ts; a
 * failing limiter locks (fail closed).
 */
export interface LoginThrottle {
  attempt(
    env: Env,
    keys: LoginAttemptKeys,
    now: number,
  ): Promise<{ locked: false; counted: LoginAttemptCounted } | { locked: true; retryAfterS: number }>;
  succeeded(env: Env, keys: LoginAttemptKeys, counted: LoginAttemptCounted): Promise<void>;
}
