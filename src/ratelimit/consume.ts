import { INSTANCE_CHAIN, recordAudit } from '../audit';
import type { Env } from '../env';
import type { LimiterDecision, LimiterOp } from './limiter-object';
import { loadPolicyTable, type LimiterFailureMode, type PolicyName } from './policies';
import { toWholeSeconds } from './sliding-log';

export type RateLimitBindings = Pick<Env, 'RATE_LIMITER' | 'AUDIT_LOG' | 'RATE_LIMITS'>;

/**
 * A limiter verdict. `admitted` is always the answer to "may this go ahead?", so a caller
 * that reads only `admitted` already honours the policy's failure mode.
 */
export type RateLimitResult =
  | {
      kind: 'decided';
      admitted: boolean;
      policy: PolicyName;
      limit: number;
      windowS: number;
      remaining: number;
      /** Whole seconds until the oldest counted hit leaves the window (a unit of quota returns); 0 if none is counted. */
      resetS: number;
      /** Epoch seconds of that moment. */
      resetAtS: number;
      /** Whole seconds, 1..windowS, when denied; 0 when admitted. */
      retryAfterS: number;
      /** When consume counted this hit (pass to refund); null for peek and denials. */
      countedAtMs: number | null;
    }
  | {
      /** The limiter failed (object overloaded, storage error) or RATE_LIMITS is malformed. */
      kind: 'unavailable';
      admitted: boolean;
      policy: PolicyName;
      failMode: LimiterFailureMode;
      reason: 'limiter-error' | 'misconfigured';
    };

export interface ConsumeOptions {
  /** Audit chain for `ratelimit.exceeded`: the workspace id when known, else the instance chain. */
  workspaceId?: string;
  /** Audit actor, e.g. `ip:<addr>`; defaults to `system`. */
  actor?: string;
  /** The key as it may appear in the audit log (never a credential or its hash); defaults to `key`. */
  auditKey?: string;
  /** Runs the audit write after the response (c.executionCtx.waitUntil); without it the write is awaited. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** Counts one hit for `key` under `policyName` at `now` and says whether it is admitted. */
export function consume(env: RateLimitBindings, policyName: PolicyName, key: string, now: number, options: ConsumeOptions = {}): Promise<RateLimitResult> {
  return ask(env, 'consume', policyName, key, now, options);
}

/** Says whether a hit would be admitted now, without counting one (e.g. before running Argon2id). */
export function peek(env: RateLimitBindings, policyName: PolicyName, key: string, now: number): Promise<RateLimitResult> {
  return ask(env, 'peek', policyName, key, now, {});
}

/**
 * Takes back a hit that `consume` counted at `countedAtMs`, e.g. a login attempt that
 * turned out to succeed. Consume-before-verify plus refund-on-success keeps "failures per
 * window" exact even for concurrent attempts (docs/ratelimit.md "login-failures"). A
 * failed refund is logged and leaves the hit counted (the conservative side).
 */
export async function refund(env: RateLimitBindings, policyName: PolicyName, key: string, countedAtMs: number): Promise<boolean> {
  try {
    return await env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(limiterName(policyName, key))).refund(countedAtMs);
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', event: 'ratelimit.refund-failed', policy: policyName, error: (error as Error)?.name ?? 'unknown' }));
    return false;
  }
}

/** One object per (policy, key): a hot key only ever slows itself (docs/ratelimit.md "Sharding"). */
export function limiterName(policyName: PolicyName, key: string): string {
  return `${policyName}:${key}`;
}

async function ask(env: RateLimitBindings, op: LimiterOp, policyName: PolicyName, key: string, now: number, options: ConsumeOptions): Promise<RateLimitResult> {
  const table = loadPolicyTable(env.RATE_LIMITS);
  if (!table.ok) {
    // Fail closed whatever the policy says: a malformed table must never mean "no limits".
    return { kind: 'unavailable', admitted: false, policy: policyName, failMode: 'closed', reason: 'misconfigured' };
  }
  const policy = table.policies[policyName];
  const windowMs = policy.windowS * 1000;
  let decision: LimiterDecision;
  try {
    const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(limiterName(policyName, key)));
    decision = await stub.decide(op, policy.limit, windowMs, now);
  } catch (error) {
    console.error(JSON.stringify({ level: 'error', event: 'ratelimit.limiter-failed', policy: policyName, failMode: policy.onLimiterFailure, error: (error as Error)?.name ?? 'unknown' }));
    return { kind: 'unavailable', admitted: policy.onLimiterFailure === 'open', policy: policyName, failMode: policy.onLimiterFailure, reason: 'limiter-error' };
  }
  if (decision.firstDenial) {
    const write = recordAudit(
      env,
      {
        workspaceId: options.workspaceId ?? INSTANCE_CHAIN,
        kind: 'ratelimit.exceeded',
        actor: options.actor ?? 'system',
        data: { policy: policyName, key: options.auditKey ?? key, windowS: policy.windowS },
      },
      now,
    ).catch((error: unknown) => {
      // The denial stands either way; a lost audit line must not turn into an admit or a 500.
      console.error(JSON.stringify({ level: 'error', event: 'ratelimit.audit-failed', policy: policyName, error: (error as Error)?.name ?? 'unknown' }));
    });
    if (options.waitUntil) options.waitUntil(write);
    else await write;
  }
  const resetS = toWholeSeconds(decision.resetMs);
  return {
    kind: 'decided',
    admitted: decision.admitted,
    policy: policyName,
    limit: policy.limit,
    windowS: policy.windowS,
    remaining: decision.remaining,
    resetS,
    resetAtS: Math.ceil((now + decision.resetMs) / 1000),
    retryAfterS: decision.admitted ? 0 : Math.min(policy.windowS, Math.max(1, toWholeSeconds(decision.retryAfterMs))),
    countedAtMs: decision.countedAtMs,
  };
}
