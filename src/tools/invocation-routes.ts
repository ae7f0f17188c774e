/**
 * POST /api/v1/agents/:id/tools/:name/invocations and GET /api/v1/invocations/:id.
 * Precedence for a call, first refusal wins: 1 agent and tool exist in the caller's workspace
 * (else 404), here; 2–4 (arguments, approval → 202, run) in invoke.ts, the one pipeline the
 * REST API, the agent runtime and MCP share.
 */
import { findAgent } from '../agents';
import { principalOf, secured, signedIn, signedInWithAnyOf, type Clock } from '../auth';
import { createDb } from '../db';
import { ApiError, createRouter, errorResponses } from '../http';
import { requireVault } from '../vault';
import { expireStaleApprovals } from './approval-store';
import { findInstalledTool } from './installed';
import { callerOf, invocationInWorkspace, invocationView, invokeTool, type InvokeContext } from './invoke';
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

export function invocationRoutes(deps: { now: Clock; fetch: typeof fetch }) {
  const router = createRouter();

  router.openapi(invokeRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const { id, name } = c.req.valid('param');
    // 1. Agent and tool in the caller's workspace (a foreign id looks missing); 2–4 in invoke.ts.
    const agent = await findAgent(db, principal.workspaceId, id);
    const tool = await findInstalledTool(db, agent.id, name);
    const requestId = c.get('requestId');
    const ctx: InvokeContext = {
      env: c.env,
      db,
      now: deps.now,
      fetch: deps.fetch,
      requestId,
      openVault: () => requireVault(c.env, requestId),
    };
    const outcome = await invokeTool(ctx, callerOf(principal), agent, tool, c.req.valid('json').arguments);
    if (outcome.status === 'pending_approval') return c.json({ id: outcome.invocationId, status: 'pending_approval' as const }, 202);
    return c.json(outcome.result, 200);
  });

  router.openapi(getRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    const db = createDb(c.env.DB);
    await expireStaleApprovals(db, workspaceId, deps.now());
    const row = await invocationInWorkspace(db, workspaceId, c.req.valid('param').id);
    if (!row) throw new ApiError('NOT_FOUND');
    return c.json(invocationView(row), 200);
  });

  return router;
}
