import { consume, refund, type RateLimitBindings } from './consume';
import { LIMITER_DOWN_RETRY_AFTER_S } from './middleware';

/**
 * The login limiter the identity code asks for (src/auth LoginThrottle), backed by the
 * `login-failures` policy: one RateLimiter object per account key, 10 per 15 minutes by
 * default. Every attempt is counted before Argon2id runs and refunded on success, so
 * attempts arriving together cannot all slip past a check (peek-then-count would let
 * them). Structural, so this folder does not import auth.
 */
export const loginThrottle = {
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
