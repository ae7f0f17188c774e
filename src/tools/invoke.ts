/**
 * One tool call, whoever asks: the REST route, the agent runtime's model loop and the MCP
 * endpoint all call `invokeTool`, so every call passes the same checks in the same order.
 * Precedence, first refusal wins (invocation-routes.ts and docs/sandbox.md list the same):
 * 1 agent and tool exist in the caller's workspace (the caller looks them up: 404);
 * 2 arguments: the stored inputSchema still passes the install checks (else 403), the
 *   arguments are within the size caps, valid against it and substitutable into argv (else
 *   400; nothing stored either way);
 * 3 approval needed (always, or on-miss outside the allowlist) → stored as pending, answered
 *   `pending_approval` (the REST route's 202);
 * 4 otherwise run (run.ts has the rest of the list).
 * Refusals are thrown as ApiError, like run.ts's: every caller maps them its own way (the
 * REST error envelope, a tool error for MCP, a tool result for the model).
 */
import { and, eq } from 'drizzle-orm';
import { recordAudit } from '../audit';
import { actorOfPrincipal, type Principal } from '../auth';
import { approvals, installedTools, newId, toolInvocations, type Database } from '../db';
import { publishEvent } from '../events';
import { ApiError } from '../http';
import { workspaceRedactor, type Vault } from '../vault';
import { APPROVAL_TTL_MS, argumentsHash, requesterOf } from './approval-store';
import { allowlistCovers, substituteArgv, validateArguments, type ArgumentsCheck } from './arguments';
import { describeSchemaProblem } from './input-schema-refusal';
import { manifestToolOf, type InstalledToolRow } from './installed';
import { runStoredInvocation, type AgentRow, type RunContext, type StoredResult } from './run';

/**
 * Who asks for a call. `actor` is written to the audit log and the invocation row;
 * `requester` is what an approval remembers so that nobody decides their own call
 * (approval-routes.ts rule 3). A null requester can never be decided by anyone (3c).
 */
export interface ToolCaller {
  actor: string;
  requester: { requestedByUserId: string | null; requestedByCredentialId: string | null };
}

/** The caller an authenticated principal is (an API key or a session). */
export function callerOf(principal: Principal): ToolCaller {
  return { actor: actorOfPrincipal(principal), requester: requesterOf(principal) };
}

export type InvocationOutcome =
  { status: 'ran'; result: StoredResult } | { status: 'pending_approval'; invocationId: string; approvalId: string; expiresAt: number };

/** Redaction keeps JSON valid in practice; if it ever did not, store a marker (an approval then fails its hash check: closed). */
function parseRedacted(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { redacted: true };
  }
}

/** The wire error for refused arguments (arguments.ts precedence 2a–2c, or a placeholder without a value). */
function argumentsError(check: ArgumentsCheck): ApiError {
  if (check.ok)
    return new ApiError('VALIDATION_ERROR', "The arguments do not fill the tool's run.argv placeholders.", { fields: ['arguments'] });
  switch (check.kind) {
    case 'schema-refused': {
      // Installed before the current schema checks: the caller cannot fix this, an operator must reinstall the tool.
      const refusal = describeSchemaProblem(check.problem, '');
      return new ApiError(
        'POLICY_DENIED',
        `The tool's stored inputSchema no longer passes the install checks; reinstall the tool. ${refusal.message}`,
        { fields: [refusal.field] },
      );
    }
    case 'over-limit':
      return new ApiError('VALIDATION_ERROR', `The arguments exceed a size limit (${check.breach.limit}).`, {
        fields: [check.breach.field],
      });
    case 'invalid':
      return new ApiError('VALIDATION_ERROR', "The arguments do not match the tool's inputSchema.", { fields: check.fields.slice(0, 16) });
  }
}

/**
 * What a call needs: the run's context, with the vault opened only once the arguments have
 * passed (an unreadable vault answers 503 after a 400 would have, as before).
 */
export type InvokeContext = Omit<RunContext, 'vault'> & { openVault: () => Promise<Vault> };

/** Steps 2–4 for a tool the caller has already found in its workspace (step 1). */
export async function invokeTool(
  invokeCtx: InvokeContext,
  caller: ToolCaller,
  agent: AgentRow,
  tool: InstalledToolRow,
  args: Record<string, unknown>,
): Promise<InvocationOutcome> {
  const entry = manifestToolOf(tool);
  const at = invokeCtx.now();

  // 2. Arguments: schema (2a–2d in arguments.ts), then substitution (every placeholder must have a scalar value).
  const check = validateArguments(entry.inputSchema, args);
  const substitutable = check.ok && entry.run && 'argv' in entry.run ? substituteArgv(entry.run.argv, args) !== null : true;
  if (!check.ok || !substitutable) {
    const reason = !check.ok && check.kind === 'schema-refused' ? 'schema-refused' : 'invalid-arguments';
    await recordAudit(
      invokeCtx.env,
      {
        workspaceId: agent.workspaceId,
        kind: 'tool.invocation.refused',
        actor: caller.actor,
        data: { agentId: agent.id, tool: tool.name, reason },
      },
      at,
    );
    throw argumentsError(check);
  }

  const { openVault, ...rest } = invokeCtx;
  const ctx: RunContext = { ...rest, vault: await openVault() };
  // Arguments are stored redacted; an approval re-checks their hash, so redacted arguments can never be approved into a run.
  const redacted = await workspaceRedactor(ctx.vault, agent.workspaceId).redact(JSON.stringify(args));
  if (!redacted.ok) throw new ApiError('SERVICE_UNAVAILABLE');
  const invocationId = newId('inv');
  const needsApproval = tool.approval === 'always' || (tool.approval === 'on-miss' && !allowlistCovers(tool.approvalAllowlist, args));
  const base = {
    id: invocationId,
    workspaceId: agent.workspaceId,
    agentId: agent.id,
    toolName: tool.name,
    arguments: parseRedacted(redacted.value),
    createdBy: caller.actor,
    createdAt: at,
  };

  // 3. Approval: the call waits, bound to the hash of exactly these arguments, and remembers
  //    who asked, so that nobody decides their own call (approval-routes.ts).
  if (needsApproval) {
    const approvalId = newId('apr');
    const expiresAt = at + APPROVAL_TTL_MS;
    await ctx.db.batch([
      ctx.db.insert(toolInvocations).values({ ...base, status: 'pending_approval' }),
      ctx.db.insert(approvals).values({
        id: approvalId,
        workspaceId: agent.workspaceId,
        agentId: agent.id,
        toolName: tool.name,
        invocationId,
        argumentsHash: await argumentsHash(args),
        ...caller.requester,
        status: 'pending',
        createdAt: at,
        expiresAt,
      }),
    ]);
    await recordAudit(
      ctx.env,
      {
        workspaceId: agent.workspaceId,
        kind: 'tool.approval.requested',
        actor: caller.actor,
        data: { agentId: agent.id, tool: tool.name, invocationId, approvalId, expiresAt },
      },
      at,
    );
    await publishEvent(ctx.env, {
      type: 'approval.pending',
      workspaceId: agent.workspaceId,
      at,
      data: { approvalId, invocationId, agentId: agent.id, tool: tool.name, expiresAt },
    });
    return { status: 'pending_approval', invocationId, approvalId, expiresAt };
  }

  // 4. Run now.
  await ctx.db.insert(toolInvocations).values({ ...base, status: 'running' });
  return { status: 'ran', result: await runStoredInvocation(ctx, agent, tool, invocationId, args) };
}

/** The tools installed on an agent, by name (what the model and MCP clients are offered). */
export function installedToolsOf(db: Database, agentId: string): Promise<InstalledToolRow[]> {
  return db.select().from(installedTools).where(eq(installedTools.agentId, agentId)).orderBy(installedTools.name);
}

export type InvocationRow = typeof toolInvocations.$inferSelect;

/** One invocation of the workspace, if any (a foreign id looks missing). */
export async function invocationInWorkspace(db: Database, workspaceId: string, id: string): Promise<InvocationRow | undefined> {
  const [row] = await db
    .select()
    .from(toolInvocations)
    .where(and(eq(toolInvocations.id, id), eq(toolInvocations.workspaceId, workspaceId)))
    .limit(1);
  return row;
}

/** The public view of an invocation row (output as stored: already redacted). */
export function invocationView(row: InvocationRow) {
  return {
    id: row.id,
    agentId: row.agentId,
    tool: row.toolName,
    status: row.status,
    exitCode: row.exitCode,
    stdout: row.stdout,
    stderr: row.stderr,
    truncated: row.truncated,
    durationMs: row.durationMs,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
  };
}
