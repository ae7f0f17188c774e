import { and, asc, eq, gt, gte, lt, type SQL } from 'drizzle-orm';
import { auditEvents, createDb } from '../db';
import type { Env } from '../env';
import { done, type Outcome } from '../http';
import type { ChainProblem } from './chain';
import { verifyAuditChain } from './record';

/**
 * Reading and verifying a workspace's own chain, as domain functions testable without HTTP.
 * The actor is anything that names its workspace (auth's Principal does): the workspace is
 * the only thing that decides what is read, so nobody reads another workspace's events.
 */
export type AuditReader = { workspaceId: string };
export type AuditReadBindings = Pick<Env, 'DB'>;

export const PAGE_DEFAULT = 100;
export const PAGE_MAX = 500;
const EXPORT_PAGE = 500;

type Row = typeof auditEvents.$inferSelect;
function eventView(row: Row) {
  return { ...row, data: JSON.parse(row.data) as Record<string, unknown> };
}
export type AuditEventView = ReturnType<typeof eventView>;

/** Optional narrowing of a page: exact kind, exact actor, createdAt in [since, until) (ms). */
export interface AuditFilter {
  kind?: string | undefined;
  actor?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
}

/** Events after `cursor` (a seq), oldest first, optionally filtered; `nextCursor` is null on the last page. */
export async function listAuditEvents(
  env: AuditReadBindings,
  actor: AuditReader,
  input: { cursor?: string | undefined; limit?: number | undefined } & AuditFilter,
): Promise<Outcome<{ events: AuditEventView[]; nextCursor: string | null }>> {
  const limit = input.limit ?? PAGE_DEFAULT;
  const conditions: SQL[] = [eq(auditEvents.workspaceId, actor.workspaceId), gt(auditEvents.seq, Number(input.cursor ?? 0))];
  if (input.kind !== undefined) conditions.push(eq(auditEvents.kind, input.kind));
  if (input.actor !== undefined) conditions.push(eq(auditEvents.actor, input.actor));
  if (input.since !== undefined) conditions.push(gte(auditEvents.createdAt, input.since));
  if (input.until !== undefined) conditions.push(lt(auditEvents.createdAt, input.until));
  const rows = await createDb(env.DB)
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(asc(auditEvents.seq))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? String(page.at(-1)?.seq) : null;
  return done({ events: page.map(eventView), nextCursor });
}

/** The whole chain as JSON Lines, streamed page by page so a long chain never sits in memory whole. */
export function exportAuditEvents(env: AuditReadBindings, actor: AuditReader): Outcome<ReadableStream<Uint8Array>> {
  const db = createDb(env.DB);
  const encoder = new TextEncoder();
  return done(
    new ReadableStream<Uint8Array>({
      async start(controller) {
        let after = 0;
        for (;;) {
          const rows = await db
            .select()
            .from(auditEvents)
            .where(and(eq(auditEvents.workspaceId, actor.workspaceId), gt(auditEvents.seq, after)))
            .orderBy(asc(auditEvents.seq))
            .limit(EXPORT_PAGE);
          for (const row of rows) controller.enqueue(encoder.encode(`${JSON.stringify(eventView(row))}\n`));
          const last = rows.at(-1);
          if (!last || rows.length < EXPORT_PAGE) break;
          after = last.seq;
        }
        controller.close();
      },
    }),
  );
}

/** Recomputes the chain; reads only (a GET never writes: a cross-site navigation carries the Lax cookie). */
export async function checkAuditChain(
  env: AuditReadBindings,
  actor: AuditReader,
): Promise<Outcome<{ ok: boolean; count: number; firstBroken?: ChainProblem | undefined; problems?: ChainProblem[] }>> {
  const verdict = await verifyAuditChain(env.DB, actor.workspaceId);
  if (verdict.ok) return done({ ok: true, count: verdict.count });
  return done({ ok: false, count: verdict.count, firstBroken: verdict.problems[0], problems: verdict.problems });
}
