import { consume, refund, type RateLimitBindings, type RateLimitResult } from './consume';
import { ipBucketKey } from './ip-key';
import { LIMITER_DOWN_RETRY_AFTER_S } from './middleware';

interface Keys {
  account: string;
  client: { ip: string } | { sessionId: string };
}
interface Counted {
  client: number | null;
  account: number | null;
}

/** The per-(account, client) bucket; addresses as every per-IP bucket (IPv6 by /64, ip-key.ts). */
function clientKey(keys: Keys): string {
  return 'ip' in keys.client ? `${keys.account}:${ipBucketKey(keys.client.ip)}` : `${keys.account}:session:${keys.client.sessionId}`;
}

function actorOf(keys: Keys): string {
  return 'ip' in keys.client ? `ip:${keys.client.ip}` : `session:${keys.client.sessionId}`;
}

function retryAfterOf(result: RateLimitResult): number {
  return result.kind === 'decided' ? result.retryAfterS : LIMITER_DOWN_RETRY_AFTER_S;
}

function countedAtOf(result: RateLimitResult): number | null {
  return result.kind === 'decided' ? result.countedAtMs : null;
}

/**
 * The login limiter the identity code asks for (src/auth LoginThrottle, which numbers the
 * tiers): `login-failures` per (account, client) in front of `login-failures-account` per
 * account. Every attempt is counted before Argon2id runs and refunded on success.
 * Structural, so this folder does not import auth.
 */
export const loginThrottle = {
  /** Counts an attempt in both tiers before verifying it; `locked` means refuse without running Argon2id. */
  async attempt(
    env: RateLimitBindings,
    keys: Keys,
    now: number,
  ): Promise<{ locked: false; counted: Counted } | { locked: true; retryAfterS: number }> {
    // 1. This client's budget for this account; a refusal here is not counted in tier 2.
    const client = await consume(env, 'login-failures', clientKey(keys), now, { auditKey: keys.account, actor: actorOf(keys) });
    if (!client.admitted) return { locked: true, retryAfterS: retryAfterOf(client) };
    // 2. The account's ceiling over all addresses.
    const account = await consume(env, 'login-failures-account', keys.account, now, { auditKey: keys.account, actor: actorOf(keys) });
    if (!account.admitted) {
      // Not a guess that ran: give this client its count back.
      const clientCountedAt = countedAtOf(client);
      if (clientCountedAt !== null) await refund(env, 'login-failures', clientKey(keys), clientCountedAt);
      return { locked: true, retryAfterS: retryAfterOf(account) };
    }
    return { locked: false, counted: { client: countedAtOf(client), account: countedAtOf(account) } };
  },

  /** Takes back what `attempt` counted, once the password proved right. */
  async succeeded(env: RateLimitBindings, keys: Keys, counted: Counted): Promise<void> {
    if (counted.client !== null) await refund(env, 'login-failures', clientKey(keys), counted.client);
    if (counted.account !== null) await refund(env, 'login-failures-account', keys.account, counted.account);
  },
};
