import { agentInWorkspace } from '../agents';
import type { Clock } from '../auth';
import { approvals, createDb } from '../db';
import type { Env } from '../env';
import { expireStaleApprovals, type ApprovalHook } from '../tools';
import { and, eq } from 'drizzle-orm';
import { replyOnChannel } from './channel-reply';
import { takeWait } from './store';
import { endExpiredTurn, resumeTurn, type RuntimeDeps } from './turn';
import type { ConversationIdentity, ConversationPort, TurnOrigin } from './types';
import type { TurnResult } from './turn';

async function settle(deps: RuntimeDeps, workspaceId: string, outcome: { result: TurnResult; origin: TurnOrigin } | null): Promise<void> {
  if (!outcome || outcome.origin.kind !== 'channel' || outcome.result.status !== 'replied') return;
  await replyOnChannel(deps, workspaceId, outcome.origin, outcome.result.reply);
}

/**
 * The approval routes' hook (wired in app.ts): a decision wakes the turn that waits on it.
 * Approved or denied → the turn goes on with the call's result (or the denial); expired →
 * the turn ends. A channel turn's reply is posted; a REST turn's reply is in its transcript.
 */
export function resumeOnDecision(deps: { now: Clock; fetch: typeof fetch }): ApprovalHook {
  return async function resumeWaitingTurn(env, decided, ctx) {
    const runtime: RuntimeDeps = { env, now: deps.now, fetch: deps.fetch, requestId: ctx.requestId };
    const db = createDb(env.DB);
    const identity = await takeWait(db, decided.approvalId);
    if (!identity || identity.workspaceId !== decided.workspaceId) return;
    const agent = await agentInWorkspace(db, identity.workspaceId, identity.agentId);
    if (!agent) return;
    const outcome =
      decided.decision === 'expired'
        ? await endExpiredTurn(runtime, { identity, agent, approvalId: decided.approvalId })
        : await resumeTurn(runtime, {
            identity,
            agent,
            approvalId: decided.approvalId,
            decision: decided.decision,
            result: decided.result,
          });
    await settle(runtime, identity.workspaceId, outcome);
  };
}

/**
 * The conversation's alarm: its paused turn's approval window has passed. The approval is
 * expired in D1 first (so it can no longer be approved into a run), then the turn ends.
 * An approval decided meanwhile whose hook never ran (the deciding Worker died) ends the
 * turn too: its result cannot be trusted to be delivered twice. Answers the time to try
 * again when the approval is still pending and not yet expired (clock skew), else null.
 */
export async function expirePausedTurn(
  identity: ConversationIdentity,
  approvalId: string,
  port: ConversationPort,
  outbound: { env: Env; now: Clock; fetch: typeof fetch },
): Promise<number | null> {
  const { env } = outbound;
  const now = outbound.now();
  const db = createDb(env.DB);
  const [approval] = await db
    .select({ status: approvals.status, expiresAt: approvals.expiresAt })
    .from(approvals)
    .where(and(eq(approvals.id, approvalId), eq(approvals.workspaceId, identity.workspaceId)))
    .limit(1);
  if (approval?.status === 'pending' && approval.expiresAt > now) return approval.expiresAt + 1000;
  if (approval?.status === 'pending') await expireStaleApprovals(db, identity.workspaceId, now);
  await takeWait(db, approvalId);
  const agent = await agentInWorkspace(db, identity.workspaceId, identity.agentId);
  const runtime: RuntimeDeps = { ...outbound, requestId: `alarm-${approvalId}`, port };
  if (!agent) return null;
  await settle(runtime, identity.workspaceId, await endExpiredTurn(runtime, { identity, agent, approvalId }));
  return null;
}
