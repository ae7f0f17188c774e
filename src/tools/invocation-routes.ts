/**
 * POST /api/v1/agents/:id/tools/:name/invocations and GET /api/v1/invocations/:id.
 * Precedence for a call, first refusal wins: 1 agent and tool exist in the caller's workspace
 * (else 404); 2 arguments: the stored inputSchema still passes the install checks (else 403),
 * the arguments are within the size caps, valid against it and substitutable into argv (else
 * 400; nothing stored either way); 3 approval needed (always, or on-miss outside the
 * allowlist) → stored as pending, 202; 4 otherwise run (run.ts has the rest of the list).
 */
import { and, eq } from 'drizzle-orm';
import { findAgent } from '../agents';
import { recordAudit } from '../audit';
import { principalOf, secured, signedIn, signedInWithAnyOf, type Clock } from '../auth';
import { approvals, createDb, newId, toolInvocations } from '../db';
import { ApiError, createRouter, errorResponses } from '../http';
import { requireVault, workspaceRedactor } from '../vault';
import { actorOf, APPROVAL_TTL_MS, argumentsHash, expireStaleApprovals, requesterOf } from './approval-store';
import { allowlistCovers, substituteArgv, validateArguments, type ArgumentsCheck } from './arguments';
import { describeSchemaProblem } from './input-schema-refusal';
import { findInstalledTool, manifestToolOf } from './installed';
import { runStoredInvocation, type RunContext } from './run';
import { IdParams, InvocationResult, InvocationView, InvokeTool, ToolParams } from './schemas';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

const invokeRoute = secured(
  {
    method: 'post',
    path: '/api/v1/agents/{id}/tools/{name}/invocations',
    operationId: 'invokeTool',
    summary: 'Call an installed tool in its sandbox (scope tools:invoke)',
    request: { params: ToolParams, body: { required: true, ...json(InvokeTool) } },
    responses: {
      200: { description: 'Ran: completed, failed or timed_out (output redacted)', ...json(InvocationResult) },
      202: { description: "Waiting for an operator's approval", ...json(InvocationResult) },
      ...errorResponses(400, 401, 403, 404, 429, 503),
    },
  },
  signedIn('tools:invoke'),
);
const getRoute = secured(
  {
    method: 'get',
    path: '/api/v1/invocations/{id}',
    operationId: 'getInvocation',
    summary: 'Status and result of a call (scope tools:invoke or agents:read)',
    request: { params: IdParams },
    responses: { 200: { description: 'The invocation', ...json(InvocationView) }, ...errorResponses(401, 403, 404) },
  },
  signedInWithAnyOf('tools:invoke', 'agents:read'),
);

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

export function invocationRoutes(deps: { now: Clock; fetch: typeof fetch }) {
  const router = createRouter();

  router.openapi(invokeRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const { id, name } = c.req.valid('param');
    const agent = await findAgent(db, principal.workspaceId, id);
    const tool = await findInstalledTool(db, agent.id, name);
    const args = c.req.valid('json').arguments;
    const entry = manifestToolOf(tool);
    const at = deps.now();

    // 2. Arguments: schema (2a–2d in arguments.ts), then substitution (every placeholder must have a scalar value).
    const check = validateArguments(entry.inputSchema, args);
    const substitutable = check.ok && entry.run && 'argv' in entry.run ? substituteArgv(entry.run.argv, args) !== null : true;
    if (!check.ok || !substitutable) {
      const reason = !check.ok && check.kind === 'schema-refused' ? 'schema-refused' : 'invalid-arguments';
      await recordAudit(
        c.env,
        {
          workspaceId: agent.workspaceId,
          kind: 'tool.invocation.refused',
          actor: actorOf(principal),
          data: { agentId: agent.id, tool: tool.name, reason },
        },
        at,
      );
      throw argumentsError(check);
    }

    const vault = await requireVault(c.env, c.get('requestId'));
    // Arguments are stored redacted; an approval re-checks their hash, so redacted arguments can never be approved into a run.
    const redacted = await workspaceRedactor(vault, agent.workspaceId).redact(JSON.stringify(args));
    if (!redacted.ok) throw new ApiError('SERVICE_UNAVAILABLE');
    const invocationId = newId('inv');
    const needsApproval = tool.approval === 'always' || (tool.approval === 'on-miss' && !allowlistCovers(tool.approvalAllowlist, args));
    const base = {
      id: invocationId,
      workspaceId: agent.workspaceId,
      agentId: agent.id,
      toolName: tool.name,
      arguments: parseRedacted(redacted.value),
      createdBy: actorOf(principal),
      createdAt: at,
    };

    // 3. Approval: the call waits, bound to the hash of exactly these arguments, and remembers
    //    who asked, so that nobody decides their own call (approval-routes.ts).
    if (needsApproval) {
      const approvalId = newId('apr');
      const expiresAt = at + APPROVAL_TTL_MS;
      await db.batch([
        db.insert(toolInvocations).values({ ...base, status: 'pending_approval' }),
        db.insert(approvals).values({
          id: approvalId,
          workspaceId: agent.workspaceId,
          agentId: agent.id,
          toolName: tool.name,
          invocationId,
          argumentsHash: await argumentsHash(args),
          ...requesterOf(principal),
          status: 'pending',
          createdAt: at,
          expiresAt,
        }),
      ]);
      await recordAudit(
        c.env,
        {
          workspaceId: agent.workspaceId,
          kind: 'tool.approval.requested',
          actor: actorOf(principal),
          data: { agentId: agent.id, tool: tool.name, invocationId, approvalId, expiresAt },
        },
        at,
      );
      return c.json({ id: invocationId, status: 'pending_approval' as const }, 202);
    }

    // 4. Run now.
    await db.insert(toolInvocations).values({ ...base, status: 'running' });
    const ctx: RunContext = { env: c.env, db, vault, now: deps.now, fetch: deps.fetch, requestId: c.get('requestId') };
    const result = await runStoredInvocation(ctx, agent, tool, invocationId, args);
    return c.json(result, 200);
  });

  router.openapi(getRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    const db = createDb(c.env.DB);
    await expireStaleApprovals(db, workspaceId, deps.now());
    const [row] = await db
      .select()
      .from(toolInvocations)
      .where(and(eq(toolInvocations.id, c.req.valid('param').id), eq(toolInvocations.workspaceId, workspaceId)))
      .limit(1);
    if (!row) throw new ApiError('NOT_FOUND');
    return c.json(
      {
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
      },
      200,
    );
  });

  return router;
}
