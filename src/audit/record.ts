import { and, asc, desc, eq, gt } from 'drizzle-orm';
import { auditEvents, createDb, newId, type Database } from '../db';
import type { Env } from '../env';
import { advanceChain, eventHash, GENESIS_HASH, newChainCursor, type ChainProblem } from './chain';
import type { AuditEvent, AuditInput, AuditKind } from './events';
import { boundEventData } from './limits';

const VERIFY_PAGE_SIZE = 500;

export interface ChainHead {
  seq: number;
  hash: string;
}

export async function readChainHead(db: Database, workspaceId: string): Promise<ChainHead> {
  const [head] = await db
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .where(eq(auditEvents.workspaceId, workspaceId))
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return head ?? { seq: 0, hash: GENESIS_HASH };
}

/** Builds the next event of a chain from its head. Pure apart from the random id. */
export async function buildEvent(head: ChainHead, input: AuditInput, now: number): Promise<AuditEvent> {
  const unsigned = {
    id: newId('evt'),
    workspaceId: input.workspaceId,
    seq: head.seq + 1,
    kind: input.kind,
    actor: input.actor,
    data: JSON.stringify(boundEventData(input.data)),
    createdAt: now,
    prevHash: head.hash,
  };
  return { ...unsigned, hash: await eventHash(unsigned) };
}

/** The bindings recordAudit needs: the chain's Durable Object namespace. */
export type AuditBindings = Pick<Env, 'AUDIT_LOG'>;

/**
 * Appends one event to its workspace's chain. Appends are serialised by the chain's
 * AuditLog Durable Object (one per workspace), so concurrent writers never race for a seq
 * and no event is lost or forked; the (workspace_id, seq) unique index backs this up.
 */
export function recordAudit<K extends AuditKind>(env: AuditBindings, input: AuditInput<K>, now: number): Promise<AuditEvent> {
  const stub = env.AUDIT_LOG.get(env.AUDIT_LOG.idFromName(input.workspaceId));
  return stub.append(input as AuditInput, now);
}

export type ChainVerdict = { ok: true; count: number } | { ok: false; count: number; problems: ChainProblem[] };

/** Recomputes a whole chain from storage, page by page. */
export async function verifyAuditChain(d1: D1Database, workspaceId: string): Promise<ChainVerdict> {
  const db = createDb(d1);
  let cursor = newChainCursor();
  let afterSeq = 0;
  for (;;) {
    const page = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.workspaceId, workspaceId), gt(auditEvents.seq, afterSeq)))
      .orderBy(asc(auditEvents.seq))
      .limit(VERIFY_PAGE_SIZE);
    cursor = await advanceChain(cursor, page);
    const last = page.at(-1);
    if (!last || page.length < VERIFY_PAGE_SIZE) break;
    afterSeq = last.seq;
  }
  return cursor.problems.length === 0 ? { ok: true, count: cursor.count } : { ok: false, count: cursor.count, problems: cursor.problems };
}
