/**
 * Approvals as functions the REST routes (approval-routes.ts) and the dashboard share:
 * the pending list of a workspace, and one decision. Deciding needs a person other than the one who asked; first match wins
 * (docs/auth.md "Approvals" has the same numbers):
 * 1. who may decide at all, else 403 FORBIDDEN:
 *    a. a signed-in session of a member whose current role is operator, admin or owner;
 *    b. an API key whose effective scopes hold `approvals:decide` and not `tools:invoke`
 *       (the two are never granted together; checked again here, at use);
 *    c. anyone else (viewers, keys without `approvals:decide`, an agent's `tools:invoke` key) → 403;
 * 2. approval not in the caller's workspace → 404;
 * 3. the caller asked for the call → 403 FORBIDDEN, the approval stays pending for someone else:
 *    a. the same credential (session or API key) that asked;
 *    b. the same person, when they asked from a session (whichever credential they use now);
 *    c. the requester is not recorded;
 *    (an agent's API key that asked does not make its creator the requester: see isOwnRequest);
 * 4. past its expiry → it becomes `expired` (= denied), 409;
 * 5. not pending (already decided) → 409;
 * 6. `argumentsHash` given and different from the approval's → 409 (never reused for other arguments);
 * 7. the stored arguments no longer hash to the approval's hash → 409 (fail closed);
 *    7b. approving, and the tool as installed now no longer accepts them (reinstalled
 *        meanwhile) → 409, still pending (a deny still goes through);
 * 8. the atomic transition pending → approved|denied (one guarded UPDATE in one D1 batch with
 *    the invocation's own transition) changed no row → 409 (someone else decided first);
 * 9. approve → run the invocation with exactly the stored arguments, re-checking everything
 *    the run checks against the agent as it is now (run.ts); deny → denied.
 * After 4 (expired), 8 (denied) and 9 (approved and run), `onApprovalDecided` (the agent
 * runtime, wired in app.ts) wakes a turn paused on the approval; it never changes the decision.
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { findAgent } from '../agents';
import { recordAudit } from '../audit';
import { publishEvent } from '../events';
import { actorOfPrincipal, type Clock, type Principal } from '../auth';
import { approvals, createDb, toolInvocations } from '../db';
import type { Env } from '../env';
import { ApiError } from '../http';
import { requireVault } from '../vault';
import { validateArguments } from './arguments';
import { findInstalledTool, manifestToolOf } from './installed';
import { argumentsHash, credentialIdOf, expireStaleApprovals } from './approval-store';
import { runStoredInvocation, type StoredResult } from './run';

const APPROVER_ROLES = new Set(['owner', 'admin', 'operator']);

/** Rule 1: a person may decide; the key that calls tools never can. */
function mayDecide(principal: Principal): boolean {
  // 1a. A signed-in member of operator rank or above.
  if (principal.kind === 'session') return APPROVER_ROLES.has(principal.role);
  // 1b. A decision key: `approvals:decide`, and never together with `tools:invoke`.
  if (principal.kind === 'api_key') return principal.scopes.has('approvals:decide') && !principal.scopes.has('tools:invoke');
  // 1c. Anyone else.
  return false;
}

/**
 * Rule 3: the requester never decides its own call.
 * a. The same credential that asked (session or API key) → refused.
 * b. A person who asked from a session → refused from any credential of theirs.
 * c. The requester is not recorded (rows older than migration 0004) → refused.
 * An API key that asked (an agent's key) is its own principal: the person who made it may
 * decide in person or through a decision key, or a one-member deployment could approve
 * nothing. Session ids are `ses_…` (sessions.ts), API key ids `key_…`.
 */
function isOwnRequest(
  principal: Principal,
  approval: { requestedByUserId: string | null; requestedByCredentialId: string | null },
): boolean {
  if (approval.requestedByUserId === null || approval.requestedByCredentialId === null) return true;
  if (approval.requestedByCredentialId === credentialIdOf(principal)) return true;
  return approval.requestedByCredentialId.startsWith('ses_') && approval.requestedByUserId === principal.userId;
}

/** What became of an approval, for whoever waits on it (the agent runtime resumes the paused turn). */
export interface ApprovalDecided {
  workspaceId: string;
  approvalId: string;
  invocationId: string;
  decision: 'approved' | 'denied' | 'expired';
  /** The call's result when approved (already redacted, as stored). */
  result: StoredResult | null;
}

/**
 * Called once a decision is final (rules 4, 8–9; app.ts wires the agent runtime's
 * resumeOnDecision). Its failure never changes the decision: it is logged, not thrown.
 */
export type ApprovalHook = (env: Env, decided: ApprovalDecided, ctx: { requestId: string }) => Promise<void>;

export interface ApprovalDeps {
  env: Env;
  now: Clock;
  fetch: typeof fetch;
  requestId: string;
  onApprovalDecided?: ApprovalHook | undefined;
  /**
   * Runs the hook's work after the response where the platform allows it (the request's
   * waitUntil); without one (app.fetch in tests) the hook is awaited before answering.
   */
  waitUntil?: ((work: Promise<unknown>) => void) | undefined;
}

/** Hands a final decision to the hook; never throws, never changes the decision. */
function afterDecision(deps: ApprovalDeps, decided: ApprovalDecided): Promise<void> {
  const hook = deps.onApprovalDecided;
  if (!hook) return Promise.resolve();
  const work = hook(deps.env, decided, { requestId: deps.requestId }).catch((error: unknown) => {
    console.error(
      JSON.stringify({
        level: 'error',
        event: 'approval.hook.failed',
        requestId: deps.requestId,
        error: error instanceof Error ? error.name : 'unknown',
      }),
    );
  });
  if (!deps.waitUntil) return work;
  deps.waitUntil(work);
  return Promise.resolve();
}

/** A pending approval as operators see it: the exact (stored, redacted) arguments and the hash they are bound to. */
export interface PendingApproval {
  id: string;
  agentId: string;
  tool: string;
  invocationId: string;
  arguments: Record<string, unknown>;
  argumentsHash: string;
  status: 'pending';
  createdAt: number;
  expiresAt: number;
}

/** The workspace's pending approvals, oldest first (stale ones expire first). */
export async function listPendingApprovals(env: Pick<Env, 'DB'>, workspaceId: string, now: Clock): Promise<PendingApproval[]> {
  const db = createDb(env.DB);
  const at = now();
  await expireStaleApprovals(db, workspaceId, at);
  const rows = await db
    .select({ approval: approvals, args: toolInvocations.arguments })
    .from(approvals)
    .innerJoin(toolInvocations, eq(toolInvocations.id, approvals.invocationId))
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.status, 'pending'), gt(approvals.expiresAt, at)))
    .orderBy(asc(approvals.createdAt));
  return rows.map(({ approval, args }) => ({
    id: approval.id,
    agentId: approval.agentId,
    tool: approval.toolName,
    invocationId: approval.invocationId,
    arguments: args,
    argumentsHash: approval.argumentsHash,
    status: 'pending' as const,
    createdAt: approval.createdAt,
    expiresAt: approval.expiresAt,
  }));
}

/** One decision, rules 1–9 above; refusals are thrown as ApiError (every caller maps them its own way). */
export async function decideApproval(
  deps: ApprovalDeps,
  principal: Principal,
  approvalId: string,
  body: { decision: 'approve' | 'deny'; argumentsHash?: string | undefined },
): Promise<StoredResult | { id: string; status: 'denied' }> {
  const at = deps.now();
  const refused = async (reason: 'not-a-decider' | 'own-request') => {
    await recordAudit(
      deps.env,
      {
        workspaceId: principal.workspaceId,
        kind: 'tool.approval.refused',
        actor: actorOfPrincipal(principal),
        data: { approvalId, reason },
      },
      at,
    );
    return new ApiError('FORBIDDEN', 'Approvals are decided by a person other than the one who asked.');
  };
  // 1. A person decides (1a session of operator+, 1b decision key); 1c everyone else is refused.
  if (!mayDecide(principal)) throw await refused('not-a-decider');
  const db = createDb(deps.env.DB);
  // 2. Workspace-scoped lookup: a foreign approval answers like a missing one.
  const [approval] = await db
    .select()
    .from(approvals)
    .where(and(eq(approvals.id, approvalId), eq(approvals.workspaceId, principal.workspaceId)))
    .limit(1);
  if (!approval) throw new ApiError('NOT_FOUND');
  // 3. Nobody decides their own call, whichever credential they use now.
  if (isOwnRequest(principal, approval)) throw await refused('own-request');
  const decidedEvent = (decision: 'approved' | 'denied' | 'expired') =>
    publishEvent(deps.env, {
      type: 'approval.decided',
      workspaceId: approval.workspaceId,
      at,
      data: {
        approvalId: approval.id,
        invocationId: approval.invocationId,
        agentId: approval.agentId,
        tool: approval.toolName,
        decision,
      },
    });
  const audit = (decision: 'approved' | 'denied' | 'expired') =>
    recordAudit(
      deps.env,
      {
        workspaceId: approval.workspaceId,
        kind: 'tool.approval.decided',
        actor: actorOfPrincipal(principal),
        data: {
          agentId: approval.agentId,
          tool: approval.toolName,
          invocationId: approval.invocationId,
          approvalId: approval.id,
          decision,
        },
      },
      at,
    );
  const settled = { workspaceId: approval.workspaceId, approvalId: approval.id, invocationId: approval.invocationId };
  // 4. Expired means denied.
  if (approval.status === 'pending' && approval.expiresAt <= at) {
    await expireStaleApprovals(db, principal.workspaceId, at);
    await audit('expired');
    await decidedEvent('expired');
    await afterDecision(deps, { ...settled, decision: 'expired', result: null });
    throw new ApiError('CONFLICT', 'The approval has expired; the call was denied.');
  }
  // 5. Spent or decided approvals are never decided again.
  if (approval.status !== 'pending') throw new ApiError('CONFLICT', 'The approval was already decided.');
  // 6. The approver confirms the arguments they saw, when they send the hash.
  if (body.argumentsHash !== undefined && body.argumentsHash !== approval.argumentsHash)
    throw new ApiError('CONFLICT', 'The approval is bound to other arguments.');
  const [invocation] = await db
    .select()
    .from(toolInvocations)
    .where(and(eq(toolInvocations.id, approval.invocationId), eq(toolInvocations.workspaceId, principal.workspaceId)))
    .limit(1);
  if (!invocation) throw new ApiError('NOT_FOUND');
  // 7. What would run must be exactly what was shown.
  if ((await argumentsHash(invocation.arguments)) !== approval.argumentsHash)
    throw new ApiError('CONFLICT', 'The approval is bound to other arguments.');

  // A removed tool or agent answers 404 before the approval is spent (it then simply expires).
  const agent = await findAgent(db, principal.workspaceId, invocation.agentId);
  const tool = await findInstalledTool(db, agent.id, invocation.toolName);
  // 7b. Approving: the tool as installed now must still accept the arguments: a tool removed and
  //     reinstalled under the same name while the call waited may have a stricter schema.
  if (body.decision === 'approve' && !validateArguments(manifestToolOf(tool).inputSchema, invocation.arguments).ok) {
    throw new ApiError('CONFLICT', 'The tool changed since the call was requested; its arguments no longer validate.');
  }

  // 8. One guarded transition; of two concurrent decisions only one changes a row.
  const decided = body.decision === 'approve' ? 'approved' : 'denied';
  const [spent] = await db.batch([
    db
      .update(approvals)
      .set({ status: decided, decidedBy: actorOfPrincipal(principal), decidedAt: at })
      .where(and(eq(approvals.id, approval.id), eq(approvals.status, 'pending'), gt(approvals.expiresAt, at)))
      .returning({ id: approvals.id }),
    db
      .update(toolInvocations)
      .set(decided === 'approved' ? { status: 'running' } : { status: 'denied', finishedAt: at })
      // Only if the statement above spent the approval (same transaction, statements run in order).
      .where(
        and(
          eq(toolInvocations.id, invocation.id),
          eq(toolInvocations.status, 'pending_approval'),
          sql`exists (select 1 from ${approvals} where ${approvals.id} = ${approval.id} and ${approvals.status} = ${decided} and ${approvals.decidedAt} = ${at})`,
        ),
      ),
  ]);
  if (spent.length !== 1) throw new ApiError('CONFLICT', 'The approval was already decided.');
  await audit(decided);
  await decidedEvent(decided);
  if (decided === 'denied') {
    await afterDecision(deps, { ...settled, decision: 'denied', result: null });
    return { id: invocation.id, status: 'denied' as const };
  }

  // 9. Run with exactly the stored (hash-checked) arguments.
  const vault = await requireVault(deps.env, deps.requestId);
  const result = await runStoredInvocation(
    { env: deps.env, db, vault, now: deps.now, fetch: deps.fetch, requestId: deps.requestId },
    agent,
    tool,
    invocation.id,
    invocation.arguments,
  );
  await afterDecision(deps, { ...settled, decision: 'approved', result });
  return result;
}
