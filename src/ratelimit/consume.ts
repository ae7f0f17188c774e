import { INSTANCE_CHAIN, recordAudit } from '../audit';
import type { Env } from '../env';
import { cachedDenial, forgetDenial, rememberDenial } from './deny-cache';
import type { LimiterDecision, LimiterOp } from './limiter-object';
import { loadPolicyTable, type LimiterFailureMode, type Policy, type PolicyName } from './policies';
import { limiterShardName } from './shards';
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
  /** Runs the audit write (and compensating refunds) after the response; without it they are awaited. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** One bucket a request falls under. */
export interface BucketAsk {
  policy: PolicyName;
  key: string;
  /** The key as it may appear in the audit log; defaults to `key`. */
  auditKey?: string;
}

type Decided = Extract<RateLimitResult, { kind: 'decided' }>;

/** Counts one hit for `key` under `policyName` at `now` and says whether it is admitted. */
export async function consume(
  env: RateLimitBindings,
  policyName: PolicyName,
  key: string,
  now: number,
  options: ConsumeOptions = {},
): Promise<RateLimitResult> {
  const [result] = await consumeAll(
    env,
    [{ policy: policyName, key, ...(options.auditKey ? { auditKey: options.auditKey } : {}) }],
    now,
    options,
  );
  if (!result) throw new Error('ratelimit: no verdict');
  return result;
}

/** Says whether a hit would be admitted now, without counting one (e.g. before running Argon2id). */
export async function peek(env: RateLimitBindings, policyName: PolicyName, key: string, now: number): Promise<RateLimitResult> {
  const table = loadPolicyTable(env.RATE_LIMITS);
  if (!table.ok) return misconfigured(policyName);
  const policy = table.policies[policyName];
  const cached = fromCache(policyName, policy, key, now);
  if (cached) return cached;
  try {
    const [decision] = await shardFor(env, key).decide(
      'peek',
      [{ policy: policyName, key, limit: policy.limit, windowMs: policy.windowS * 1000 }],
      now,
    );
    if (!decision) throw new Error('ratelimit: no decision');
    return toResult(policyName, policy, key, decision, now);
  } catch (error) {
    return limiterFailed(policyName, policy, error);
  }
}

/**
 * Takes back a hit that `consume` counted at `countedAtMs`, e.g. a login attempt that
 * turned out to succeed. Consume-before-verify plus refund-on-success keeps "failures per
 * window" exact even for concurrent attempts (docs/ratelimit.md "login-failures"). A
 * failed refund is logged and leaves the hit counted (the conservative side).
 */
export async function refund(env: RateLimitBindings, policyName: PolicyName, key: string, countedAtMs: number): Promise<boolean> {
  // The slot frees now: a verdict cached in this isolate must not outlive it.
  forgetDenial(policyName, key);
  try {
    return await shardFor(env, key).refund(policyName, key, countedAtMs);
  } catch (error) {
    console.error(
      JSON.stringify({ level: 'error', event: 'ratelimit.refund-failed', policy: policyName, error: (error as Error)?.name ?? 'unknown' }),
    );
    return false;
  }
}

function shardFor(env: RateLimitBindings, key: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(limiterShardName(key)));
}

/**
 * Counts one hit in every bucket of a request, in order, and returns the verdicts up to and
 * including the first refusal (a denial, or a fail-closed limiter failure); buckets after it
 * do not count the request. Cost: no round trip when the deny cache already refuses one of
 * the buckets; otherwise one call per shard involved, all in flight at once (one call when
 * the keys share a shard). A bucket that a later-checked shard admitted while an earlier
 * bucket refused gets its hit back (a refund after the answer), so the outcome is the one
 * of checking the buckets one after the other; until that refund lands the bucket holds one
 * hit too many, which can only refuse, never admit.
 */
export async function consumeAll(
  env: RateLimitBindings,
  asks: readonly BucketAsk[],
  now: number,
  options: ConsumeOptions = {},
): Promise<RateLimitResult[]> {
  const table = loadPolicyTable(env.RATE_LIMITS);
  // Fail closed whatever the policy says: a malformed table must never mean "no limits".
  if (!table.ok) return asks.slice(0, 1).map((ask) => misconfigured(ask.policy));
  const policies = table.policies;
  for (const ask of asks) {
    const cached = fromCache(ask.policy, policies[ask.policy], ask.key, now);
    if (cached) return [cached];
  }
  const groups = new Map<string, number[]>();
  asks.forEach((ask, index) => {
    const name = limiterShardName(ask.key);
    groups.set(name, [...(groups.get(name) ?? []), index]);
  });
  const results: (RateLimitResult | undefined)[] = Array(asks.length).fill(undefined);
  const decisions: (LimiterDecision | undefined)[] = Array(asks.length).fill(undefined);
  await Promise.all(
    [...groups].map(async ([name, indices]) => {
      const windows = indices.map((i) => {
        const ask = asks[i] as BucketAsk;
        const policy = policies[ask.policy];
        return { policy: ask.policy, key: ask.key, limit: policy.limit, windowMs: policy.windowS * 1000 };
      });
      try {
        const answers = await env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name)).decide('consume' satisfies LimiterOp, windows, now);
        answers.forEach((decision, j) => {
          const index = indices[j] as number;
          const ask = asks[index] as BucketAsk;
          decisions[index] = decision;
          results[index] = toResult(ask.policy, policies[ask.policy], ask.key, decision, now);
        });
      } catch (error) {
        for (const i of indices) results[i] = limiterFailed((asks[i] as BucketAsk).policy, policies[(asks[i] as BucketAsk).policy], error);
      }
    }),
  );
  const background: Promise<unknown>[] = [];
  asks.forEach((ask, i) => {
    if (decisions[i]?.firstDenial) background.push(auditDenial(env, ask, policies[ask.policy], now, options));
  });
  const refused = results.findIndex((result) => result === undefined || !result.admitted);
  const answered = refused < 0 ? results : results.slice(0, refused + 1);
  if (refused >= 0) {
    for (let i = refused + 1; i < asks.length; i++) {
      const countedAt = decisions[i]?.countedAtMs;
      const ask = asks[i] as BucketAsk;
      if (countedAt !== undefined && countedAt !== null) background.push(refund(env, ask.policy, ask.key, countedAt));
    }
  }
  const work = Promise.all(background);
  if (options.waitUntil) options.waitUntil(work);
  else await work;
  return answered.map(
    (result, i) =>
      result ?? limiterFailed(asks[i]?.policy ?? 'default-ip', policies[asks[i]?.policy ?? 'default-ip'], new Error('no verdict')),
  );
}

function misconfigured(policy: PolicyName): RateLimitResult {
  return { kind: 'unavailable', admitted: false, policy, failMode: 'closed', reason: 'misconfigured' };
}

function limiterFailed(policyName: PolicyName, policy: Policy, error: unknown): RateLimitResult {
  console.error(
    JSON.stringify({
      level: 'error',
      event: 'ratelimit.limiter-failed',
      policy: policyName,
      failMode: policy.onLimiterFailure,
      error: (error as Error)?.name ?? 'unknown',
    }),
  );
  return {
    kind: 'unavailable',
    admitted: policy.onLimiterFailure === 'open',
    policy: policyName,
    failMode: policy.onLimiterFailure,
    reason: 'limiter-error',
  };
}

function auditDenial(env: RateLimitBindings, ask: BucketAsk, policy: Policy, now: number, options: ConsumeOptions): Promise<unknown> {
  return recordAudit(
    env,
    {
      workspaceId: options.workspaceId ?? INSTANCE_CHAIN,
      kind: 'ratelimit.exceeded',
      actor: options.actor ?? 'system',
      data: { policy: ask.policy, key: ask.auditKey ?? options.auditKey ?? ask.key, windowS: policy.windowS },
    },
    now,
  ).catch((error: unknown) => {
    // The denial stands either way; a lost audit line must not turn into an admit or a 500.
    console.error(
      JSON.stringify({ level: 'error', event: 'ratelimit.audit-failed', policy: ask.policy, error: (error as Error)?.name ?? 'unknown' }),
    );
  });
}

/** A denial the deny cache already knows; the same figures the shard would give. */
function fromCache(policyName: PolicyName, policy: Policy, key: string, now: number): Decided | null {
  const until = cachedDenial(policyName, key, policy.limit, policy.windowS * 1000, now);
  if (until === null) return null;
  const waitMs = until - now;
  return {
    kind: 'decided',
    admitted: false,
    policy: policyName,
    limit: policy.limit,
    windowS: policy.windowS,
    remaining: 0,
    ...secondsOf(policy, waitMs, waitMs, now),
    countedAtMs: null,
  };
}

function secondsOf(policy: Policy, resetMs: number, retryAfterMs: number | null, now: number) {
  return {
    resetS: toWholeSeconds(resetMs),
    resetAtS: Math.ceil((now + resetMs) / 1000),
    retryAfterS: retryAfterMs === null ? 0 : Math.min(policy.windowS, Math.max(1, toWholeSeconds(retryAfterMs))),
  };
}

function toResult(policyName: PolicyName, policy: Policy, key: string, decision: LimiterDecision, now: number): Decided {
  // A shard's denial is remembered in this isolate until its earliest admission.
  if (!decision.admitted) rememberDenial(policyName, key, policy.limit, policy.windowS * 1000, now + decision.retryAfterMs, now);
  return {
    kind: 'decided',
    admitted: decision.admitted,
    policy: policyName,
    limit: policy.limit,
    windowS: policy.windowS,
    remaining: decision.remaining,
    ...secondsOf(policy, decision.resetMs, decision.admitted ? null : decision.retryAfterMs, now),
    countedAtMs: decision.countedAtMs,
  };
}
