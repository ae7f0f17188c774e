/**
 * Approvals: GET /api/v1/approvals (pending, this workspace), POST /api/v1/approvals/:id
 * {decision}. The rules (1–9) are in approvals.ts, shared with the dashboard.
 */
import { principalOf, secured, signedIn, signedInWithAnyOf, type Clock } from '../auth';
import { createRouter, errorResponses, waitUntilOf } from '../http';
import { decideApproval, listPendingApprovals, type ApprovalHook } from './approvals';
import { ApprovalList, DecideApproval, IdParams, InvocationResult } from './schemas';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/approvals',
    operationId: 'listApprovals',
    summary: 'Pending approvals of the workspace (scope tools:invoke or approvals:decide)',
    responses: { 200: { description: 'Pending approvals', ...json(ApprovalList) }, ...errorResponses(401, 403) },
  },
  signedInWithAnyOf('tools:invoke', 'approvals:decide'),
);
const decideRoute = secured(
  {
    method: 'post',
    path: '/api/v1/approvals/{id}',
    operationId: 'decideApproval',
    summary: 'Approve (runs the call with exactly the shown arguments) or deny a pending call',
    description:
      'Needs a person other than the requester: a signed-in session of an operator, admin or owner, or an API key with scope `approvals:decide` (which never also holds `tools:invoke`). Whoever asked for the call (same user or same credential) gets 403.',
    request: { params: IdParams, body: { required: true, ...json(DecideApproval) } },
    responses: {
      200: { description: "Decided; on approve, the call's result", ...json(InvocationResult) },
      ...errorResponses(400, 401, 403, 404, 409, 429, 503),
    },
  },
  signedIn(),
);

export function approvalRoutes(deps: { now: Clock; fetch: typeof fetch; onApprovalDecided?: ApprovalHook }) {
  const router = createRouter();

  router.openapi(listRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    return c.json({ approvals: await listPendingApprovals(c.env, workspaceId, deps.now) }, 200);
  });

  router.openapi(decideRoute, async (c) => {
    const result = await decideApproval(
      {
        env: c.env,
        now: deps.now,
        fetch: deps.fetch,
        requestId: c.get('requestId'),
        onApprovalDecided: deps.onApprovalDecided,
        waitUntil: waitUntilOf(c),
      },
      principalOf(c),
      c.req.valid('param').id,
      c.req.valid('json'),
    );
    return c.json(result, 200);
  });

  return router;
}
