import { z } from '@hono/zod-openapi';
import { and, asc, eq, gt } from 'drizzle-orm';
import { principalOf, secured, signedIn } from '../auth';
import { auditEvents, createDb } from '../db';
import { createRouter, errorResponses } from '../http';
import { verifyAuditChain } from './record';

const PAGE_DEFAULT = 100;
const PAGE_MAX = 500;
const EXPORT_PAGE = 500;

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
  cursor: z.string().regex(/^\d{1,15}$/).optional().openapi({ description: 'nextCursor from the previous page' }),
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

const listRoute = secured({
  method: 'get',
  path: '/api/v1/audit',
  operationId: 'listAuditEvents',
  summary: 'Your workspace’s audit events, oldest first (scope audit:read)',
  request: { query: ListQuery },
  responses: { 200: { description: 'A page of events', content: { 'application/json': { schema: AuditPage } } }, ...errorResponses(400, 401, 403) },
}, signedIn('audit:read'));
const exportRoute = secured({
  method: 'get',
  path: '/api/v1/audit/export',
  operationId: 'exportAuditEvents',
  summary: 'The whole chain as JSON Lines (scope audit:read)',
  responses: { 200: { description: 'One event per line', content: { 'application/x-ndjson': { schema: z.string() } } }, ...errorResponses(401, 403) },
}, signedIn('audit:read'));
const verifyRoute = secured({
  method: 'get',
  path: '/api/v1/audit/verify',
  operationId: 'verifyAuditChain',
  summary: 'Recompute the hash chain and report the first broken event (scope audit:read)',
  responses: { 200: { description: 'Verdict', content: { 'application/json': { schema: Verdict } } }, ...errorResponses(401, 403) },
}, signedIn('audit:read'));

type Row = typeof auditEvents.$inferSelect;
function eventView(row: Row) {
  return { ...row, data: JSON.parse(row.data) as Record<string, unknown> };
}

/** Reading and verifying a workspace's own chain; nobody reads another workspace's. */
export function auditRoutes() {
  const router = createRouter();

  router.openapi(listRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    const { cursor, limit = PAGE_DEFAULT } = c.req.valid('query');
    const rows = await createDb(c.env.DB)
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, workspaceId), gt(auditEvents.seq, Number(cursor ?? 0))))
      .orderBy(asc(auditEvents.seq))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? String(page.at(-1)?.seq) : null;
    return c.json({ events: page.map(eventView), nextCursor }, 200);
  });

  router.openapi(exportRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    const db = createDb(c.env.DB);
    const encoder = new TextEncoder();
    // Streamed page by page so a long chain never sits in memory whole.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        let after = 0;
        for (;;) {
          const rows = await db
            .select()
            .from(auditEvents)
            .where(and(eq(auditEvents.workspaceId, workspaceId), gt(auditEvents.seq, after)))
            .orderBy(asc(auditEvents.seq))
            .limit(EXPORT_PAGE);
          for (const row of rows) controller.enqueue(encoder.encode(`${JSON.stringify(eventView(row))}\n`));
          const last = rows.at(-1);
          if (!last || rows.length < EXPORT_PAGE) break;
          after = last.seq;
        }
        controller.close();
      },
    });
    return c.body(body, 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' }) as never;
  });

  router.openapi(verifyRoute, async (c) => {
    // A GET never writes: a cross-site top-level navigation carries the Lax cookie.
    const verdict = await verifyAuditChain(c.env.DB, principalOf(c).workspaceId);
    if (verdict.ok) return c.json({ ok: true, count: verdict.count }, 200);
    return c.json({ ok: false, count: verdict.count, firstBroken: verdict.problems[0], problems: verdict.problems }, 200);
  });

  return router;
}
