import { z } from '@hono/zod-openapi';
import { principalOf, secured, signedIn } from '../auth';
import { createRouter, errorResponses, valueOf } from '../http';
import { checkAuditChain, exportAuditEvents, listAuditEvents, PAGE_MAX } from '../audit';

const AuditEventView = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    seq: z.number().int(),
    kind: z.string(),
    actor: z.string(),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.number().int(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEvent');
const AuditPage = z.object({ events: z.array(AuditEventView), nextCursor: z.string().nullable() }).openapi('AuditPage');
const ListQuery = z.object({
  cursor: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional()
    .openapi({ description: 'nextCursor from the previous page' }),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).optional(),
});
const Problem = z.union([
  z.object({ kind: z.literal('edited'), seq: z.number(), id: z.string() }),
  z.object({ kind: z.literal('relinked'), seq: z.number(), id: z.string() }),
  z.object({ kind: z.literal('missing'), fromSeq: z.number(), toSeq: z.number() }),
]);
const Verdict = z
  .object({ ok: z.boolean(), count: z.number().int(), firstBroken: Problem.optional(), problems: z.array(Problem).optional() })
  .openapi('AuditVerification');

const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/audit',
    operationId: 'listAuditEvents',
    summary: 'Your workspace’s audit events, oldest first (scope audit:read)',
    request: { query: ListQuery },
    responses: {
      200: { description: 'A page of events', content: { 'application/json': { schema: AuditPage } } },
      ...errorResponses(400, 401, 403),
    },
  },
  signedIn('audit:read'),
);
const exportRoute = secured(
  {
    method: 'get',
    path: '/api/v1/audit/export',
    operationId: 'exportAuditEvents',
    summary: 'The whole chain as JSON Lines (scope audit:read)',
    responses: {
      200: { description: 'One event per line', content: { 'application/x-ndjson': { schema: z.string() } } },
      ...errorResponses(401, 403),
    },
  },
  signedIn('audit:read'),
);
const verifyRoute = secured(
  {
    method: 'get',
    path: '/api/v1/audit/verify',
    operationId: 'verifyAuditChain',
    summary: 'Recompute the hash chain and report the first broken event (scope audit:read)',
    responses: { 200: { description: 'Verdict', content: { 'application/json': { schema: Verdict } } }, ...errorResponses(401, 403) },
  },
  signedIn('audit:read'),
);

/** Reading and verifying a workspace's own chain (reading.ts): parse, call, answer. */
export function auditRoutes() {
  const router = createRouter();

  router.openapi(listRoute, async (c) => c.json(valueOf(await listAuditEvents(c.env, principalOf(c), c.req.valid('query'))), 200));

  router.openapi(
    exportRoute,
    async (c) =>
      c.body(valueOf(exportAuditEvents(c.env, principalOf(c))), 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' }) as never,
  );

  router.openapi(verifyRoute, async (c) => c.json(valueOf(await checkAuditChain(c.env, principalOf(c))), 200));

  return router;
}
