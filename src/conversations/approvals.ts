import { agentInWorkspace } from '../agents';
import type { Clock } from '../auth';
import { approvals, createDb, type Database } from '../db';
import type { Env } from '../env';
import { expireStaleApprovals, invocationInWorkspace, type ApprovalHook, type StoredResult } from '../tools';
import { and, eq } from 'drizzle-orm';
import { replyOnChannel } from './channel-reply';
import { conversationStub, takeWait } from './store';
import { endExpiredTurn, resumeTurn, type RuntimeDeps } from './turn';
import type { ConversationIdentity, ConversationPort, TurnOrigin } from './types';
import type { TurnResult } from './turn';

/**
 * An approved call whose invocation has not finished yet: its decision request is still
 * running the tool (at most TOOL_TIMEOUT_MAX_MS, 10 minutes), so the turn waits for the
 * result this long after the decision before it goes on without one.
 */
export const RESULT_WAIT_MS = 11 * 60_000;

async function settle(deps: RuntimeDeps, workspaceId: string, outcome: { result: TurnResult; origin: TurnOrigin } | null): Promise<void> {
  if (!outcome || outcome.origin.kind !== 'channel' || outcome.result.status !== 'replied') return;
  await replyOnChannel(deps, workspaceId, outcome.origin, outcome.result.reply);
}

/**
 * The approval routes' hook (wired in app.ts): a final decision wakes the conversation whose
 * turn waits on it, and that is all. One call to the object (`wake`), which sets its alarm
 * to now and returns; the resumed turn runs inside the object (settlePausedTurn below), so
 * the approver's request answers at once and a slow model cannot hold it open. The wake
 * carries no decision: the object reads the decision and the call's result from D1 itself,
 * so a wake that is replayed, forged or for another approval runs nothing.
 */
export function resumeOnDecision(): ApprovalHook {
  return async function wakeWaitingTurn(env, decided) {
    const identity = await takeWait(createDb(env.DB), decided.approvalId);
    if (!identity || identity.workspaceId !== decided.workspaceId) return;
    await conversationStub(env, identity.conversationId).wake(identity, decided.approvalId);
  };
}

type Decided =
  { kind: 'approved'; result: StoredResult | null } | { kind: 'denied' } | { kind: 'expired' } | { kind: 'wait'; until: number };

/** The call's stored (already redacted) result, once the invocation has finished; null while it still runs. */
async function storedResultOf(db: Database, workspaceId: string, invocationId: string): Promise<StoredResult | null> {
  const row = await invocationInWorkspace(db, workspaceId, invocationId);
  if (!row || row.status === 'running' || row.status === 'pending_approval') return null;
  return {
    id: row.id,
    status: row.status,
    exitCode: row.exitCode,
    stdout: row.stdout ?? '',
    stderr: row.stderr ?? '',
    truncated: row.truncated,
    durationMs: row.durationMs ?? 0,
  };
}

/**
 * What D1 says became of the approval, first match wins:
 * 1. pending and not yet expired → wait (until its expiry + 1 s);
 * 2. pending and past its expiry → expired in D1 first (it can no longer be approved into a
 *    run), then expired;
 * 3. denied → denied;
 * 4. approved and its invocation finished → approved with the stored result;
 * 5. approved, the invocation still running, less than RESULT_WAIT_MS since the decision →
 *    wait (the deciding request is still running the tool; its wake follows);
 * 6. approved, the result never came (the deciding Worker died mid-call) → approved without
 *    a result (the model is told it is unknown; the call is never run again);
 * 7. anything else (expired, or the row is gone) → expired.
 */
async function decisionOf(db: Database, workspaceId: string, approvalId: string, now: number): Promise<Decided> {
  const [approval] = await db
    .select({
      status: approvals.status,
      expiresAt: approvals.expiresAt,
      decidedAt: approvals.decidedAt,
      invocationId: approvals.invocationId,
    })
    .from(approvals)
    .where(and(eq(approvals.id, approvalId), eq(approvals.workspaceId, workspaceId)))
    .limit(1);
  if (approval?.status === 'pending' && approval.expiresAt > now) return { kind: 'wait', until: approval.expiresAt + 1000 };
  if (approval?.status === 'pending') {
    await expireStaleApprovals(db, workspaceId, now);
    return { kind: 'expired' };
  }
  if (approval?.status === 'denied') return { kind: 'denied' };
  if (approval?.status === 'approved') {
    const result = await storedResultOf(db, workspaceId, approval.invocationId);
    if (result) return { kind: 'approved', result };
    const giveUpAt = (approval.decidedAt ?? now) + RESULT_WAIT_MS;
    if (now < giveUpAt) return { kind: 'wait', until: giveUpAt };
    return { kind: 'approved', result: null };
  }
  return { kind: 'expired' };
}

/**
 * The conversation object's paused turn is due (conversation-object.ts: a wake, or the
 * approval's expiry): it goes on, inside the object, as D1's decision says (decisionOf).
 * Approved or denied → the call's result (or the denial) goes to the model and the loop goes
 * on; expired → the turn ends with a reply saying so. A channel turn's reply is posted; a
 * REST turn's is in its transcript. Answers when to look again (still pending), else null.
 */
export async function settlePausedTurn(
  identity: ConversationIdentity,
  approvalId: string,
  port: ConversationPort,
  outbound: { env: Env; now: Clock; fetch: typeof fetch },
): Promise<number | null> {
  const db = createDb(outbound.env.DB);
  const decided = await decisionOf(db, identity.workspaceId, approvalId, outbound.now());
  if (decided.kind === 'wait') return decided.until;
  await takeWait(db, approvalId);
  const agent = await agentInWorkspace(db, identity.workspaceId, identity.agentId);
  if (!agent) return null;
  const runtime: RuntimeDeps = { ...outbound, requestId: `resume-${approvalId}`, port };
  const outcome =
    decided.kind === 'expired'
      ? await endExpiredTurn(runtime, { identity, agent, approvalId })
      : await resumeTurn(runtime, {
          identity,
          agent,
          approvalId,
          decision: decided.kind,
          result: decided.kind === 'approved' ? decided.result : null,
        });
  await settle(runtime, identity.workspaceId, outcome);
  return null;
}
