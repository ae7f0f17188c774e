import { peek, consume, refund, type RateLimitBindings } from './consume';
import { LIMITER_DOWN_RETRY_AFTER_S } from './middleware';

/**
 * The failed-login limiter the identity code asks for (src/auth LoginThrottle: `check`
 * before any Argon2id work, `recordFailure` after a failed attempt), backed by the
 * `login-failures` policy: one RateLimiter object per account key, 10 failures per 15
 * minutes by default. Structural, so this folder does not import auth.
 *
 * `check` is a peek, so it inherits peek's race: attempts that arrive together all pass
 * it (docs/ratelimit.md "login-failures"). `attempt`/`succeeded` is the exact
 * alternative: count before verifying, refund on success.
 */
export const loginThrottle = {
  async check(env: RateLimitBindings, accountKey: string, now: number): Promise<{ locked: false } | { locked: true; retryAfterS: number }> {
    const result = await peek(env, 'login-failures', accountKey, now);
    if (result.admitted) return { locked: false };
    // Fail closed: a broken or misconfigured limiter locks, with a short retry hint.
    return { locked: true, retryAfterS: result.kind === 'decided' ? result.retryAfterS : LIMITER_DOWN_RETRY_AFTER_S };
  },

  async recordFailure(env: RateLimitBindings, accountKey: string, now: number): Promise<void> {
    await consume(env, 'login-failures', accountKey, now, { auditKey: accountKey });
  },

  /** Counts an attempt before verifying it; `locked` means refuse without running Argon2id. */
  async attempt(env: RateLimitBindings, accountKey: string, now: number): Promise<{ locked: false; countedAtMs: number | null } | { locked: true; retryAfterS: number }> {
    const result = await consume(env, 'login-failures', accountKey, now, { auditKey: accountKey });
    if (!result.admitted) return { locked: true, retryAfterS: result.kind === 'decided' ? result.retryAfterS : LIMITER_DOWN_RETRY_AFTER_S };
    return { locked: false, countedAtMs: result.kind === 'decided' ? result.countedAtMs : null };
  },

  /** Takes back the attempt `attempt` counted, once the password proved right. */
  async succeeded(env: RateLimitBindings, accountKey: string, countedAtMs: number | null): Promise<void> {
    if (countedAtMs !== null) await refund(env, 'login-failures', accountKey, countedAtMs);
  },
};
