/**
 * Every guard verdict goes to the audit log (agent.guard.*), with its reasons and never the
 * text that caused it: a reason is a rule id or a kind (`ignore-instructions`,
 * `github-token`, `tool:http_get`), checked against SAFE_REASON before it is written, so a
 * caller that passes text by mistake records `other` instead of the text.
 */
import { recordAudit, type AuditBindings } from '../audit';
import type { GuardOutcome, GuardVerdict } from './settings';

export const SAFE_REASON = /^[A-Za-z0-9][A-Za-z0-9:._@/-]{0,95}$/;
export const MAX_REASONS = 16;

export interface VerdictPlace {
  workspaceId: string;
  agentId: string;
  conversationId: string;
}

const KIND = {
  pass: 'agent.guard.passed',
  warned: 'agent.guard.warned',
  blocked: 'agent.guard.blocked',
  withheld: 'agent.guard.withheld',
  'needs-approval': 'agent.guard.needs-approval',
} as const satisfies Record<GuardOutcome, string>;

/** Reasons as they may be recorded: safe shapes only, deduplicated, at most MAX_REASONS. */
export function auditableReasons(reasons: readonly string[]): string[] {
  return [...new Set(reasons.map((reason) => (SAFE_REASON.test(reason) ? reason : 'other')))].slice(0, MAX_REASONS);
}

/** Records one verdict (a pass too: every verdict is audited). */
export async function recordGuardVerdict(env: AuditBindings, at: VerdictPlace, verdict: GuardVerdict, now: number): Promise<void> {
  if (verdict.outcome === 'pass') {
    await recordAudit(
      env,
      {
        workspaceId: at.workspaceId,
        kind: KIND.pass,
        actor: 'system',
        data: { agentId: at.agentId, conversationId: at.conversationId, guards: [verdict.guard] },
      },
      now,
    );
    return;
  }
  await recordAudit(
    env,
    {
      workspaceId: at.workspaceId,
      kind: KIND[verdict.outcome],
      actor: 'system',
      data: {
        agentId: at.agentId,
        conversationId: at.conversationId,
        guard: verdict.guard,
        mode: verdict.mode,
        reasons: auditableReasons(verdict.reasons),
      },
    },
    now,
  );
}

/**
 * Records the verdicts of one step at once: each verdict that is not a pass as its own event,
 * the passes together as one agent.guard.passed naming the guards (one event, not one per guard).
 */
export async function recordGuardVerdicts(
  env: AuditBindings,
  at: VerdictPlace,
  verdicts: readonly GuardVerdict[],
  now: number,
): Promise<void> {
  const passed = [...new Set(verdicts.filter((verdict) => verdict.outcome === 'pass').map((verdict) => verdict.guard))];
  if (passed.length > 0)
    await recordAudit(
      env,
      {
        workspaceId: at.workspaceId,
        kind: KIND.pass,
        actor: 'system',
        data: { agentId: at.agentId, conversationId: at.conversationId, guards: passed },
      },
      now,
    );
  for (const verdict of verdicts) if (verdict.outcome !== 'pass') await recordGuardVerdict(env, at, verdict, now);
}
