import { and, asc, desc, eq, gt, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { agentTurnUsage, conversations, conversationWaits, newId, type Database, type TurnOutcome } from '../db';
import type { Env } from '../env';
import type { Conversation } from './conversation-object';
import type { ConversationIdentity, ConversationRpc, TurnCounters } from './types';

export type ConversationRow = typeof conversations.$inferSelect;

/** The Durable Object holding this conversation (named by the row id, which is random). */
export function conversationStub(env: Pick<Env, 'CONVERSATION'>, conversationId: string): ConversationRpc {
  const ns: DurableObjectNamespace<Conversation> = env.CONVERSATION;
  return ns.get(ns.idFromName(conversationId)) as unknown as ConversationRpc;
}

export function identityOf(row: ConversationRow): ConversationIdentity {
  return { workspaceId: row.workspaceId, agentId: row.agentId, conversationId: row.id };
}

export async function conversationOf(db: Database, workspaceId: string, agentId: string, id: string): Promise<ConversationRow | undefined> {
  const [row] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.id, id), eq(conversations.workspaceId, workspaceId), eq(conversations.agentId, agentId)))
    .limit(1);
  return row;
}

/** A new REST conversation (its key is `rest:<id>`). */
export async function newRestConversation(db: Database, workspaceId: string, agentId: string, now: number): Promise<ConversationRow> {
  const id = newId('cnv');
  const row = { id, workspaceId, agentId, channelKey: `rest:${id}`, createdAt: now, updatedAt: now, vaultKeyId: null };
  await db.insert(conversations).values(row);
  return row;
}

/** The conversation of a chat channel/thread, made on its first message (one per agent and key, even under a race). */
export async function channelConversation(
  db: Database,
  workspaceId: string,
  agentId: string,
  channelKey: string,
  now: number,
): Promise<ConversationRow> {
  await db
    .insert(conversations)
    .values({ id: newId('cnv'), workspaceId, agentId, channelKey, createdAt: now, updatedAt: now })
    .onConflictDoNothing({ target: [conversations.agentId, conversations.channelKey] });
  const [row] = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.agentId, agentId), eq(conversations.channelKey, channelKey)))
    .limit(1);
  if (!row || row.workspaceId !== workspaceId) throw new Error('conversations: channel conversation missing after upsert');
  return row;
}

export async function touchConversation(db: Database, id: string, now: number): Promise<void> {
  await db.update(conversations).set({ updatedAt: now }).where(eq(conversations.id, id));
}

/** Where a page of conversations starts: after the one last shown (most recent first, ties by id). */
export interface ConversationPosition {
  updatedAt: number;
  id: string;
}

/** At most `limit` conversations, most recent first, starting after `after` (keyset paging: stable while rows change). */
export function listConversations(
  db: Database,
  workspaceId: string,
  agentId: string,
  page: { limit: number; after?: ConversationPosition | undefined },
): Promise<ConversationRow[]> {
  const { after } = page;
  return db
    .select()
    .from(conversations)
    .where(
      and(
        eq(conversations.workspaceId, workspaceId),
        eq(conversations.agentId, agentId),
        after
          ? or(
              lt(conversations.updatedAt, after.updatedAt),
              and(eq(conversations.updatedAt, after.updatedAt), lt(conversations.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(conversations.updatedAt), desc(conversations.id))
    .limit(page.limit);
}

/** Every conversation row id of an agent (no limit: its deletion must reach all of them). */
export async function conversationIdsOf(db: Database, workspaceId: string, agentId: string): Promise<string[]> {
  const rows = await db
    .select({ id: conversations.id })
    .from(conversations)
    .where(and(eq(conversations.workspaceId, workspaceId), eq(conversations.agentId, agentId)));
  return rows.map((r) => r.id);
}

export async function deleteConversationRow(db: Database, id: string): Promise<void> {
  await db.batch([
    db.delete(conversationWaits).where(eq(conversationWaits.conversationId, id)),
    db.delete(conversations).where(eq(conversations.id, id)),
  ]);
}

/**
 * Vault rotation's registry (conversations.vault_key_id): a conversation is pending until its
 * object has confirmed every sealed row under the active key.
 */
function pendingUnder(activeKeyId: string) {
  return or(isNull(conversations.vaultKeyId), ne(conversations.vaultKeyId, activeKeyId));
}

/** Up to `limit` conversations pending under `activeKeyId`, in id order, after `afterId`. */
export function pendingConversations(db: Database, activeKeyId: string, afterId: string | null, limit: number) {
  return db
    .select({ id: conversations.id, workspaceId: conversations.workspaceId, agentId: conversations.agentId })
    .from(conversations)
    .where(and(pendingUnder(activeKeyId), afterId === null ? undefined : gt(conversations.id, afterId)))
    .orderBy(asc(conversations.id))
    .limit(limit);
}

export async function countPendingConversations(db: Database, activeKeyId: string, afterId: string | null): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(conversations)
    .where(and(pendingUnder(activeKeyId), afterId === null ? undefined : gt(conversations.id, afterId)));
  return Number(row?.n ?? 0);
}

/** The object confirmed every sealed row under `keyId` (null: it sealed under another key since; rotation visits it again). */
export async function setConversationVaultKey(db: Database, id: string, keyId: string | null): Promise<void> {
  await db.update(conversations).set({ vaultKeyId: keyId }).where(eq(conversations.id, id));
}

export async function recordWait(db: Database, identity: ConversationIdentity, approvalId: string, now: number): Promise<void> {
  await db.insert(conversationWaits).values({ approvalId, ...identity, createdAt: now });
}

export async function takeWait(db: Database, approvalId: string): Promise<ConversationIdentity | null> {
  const [row] = await db.delete(conversationWaits).where(eq(conversationWaits.approvalId, approvalId)).returning();
  return row ? { workspaceId: row.workspaceId, agentId: row.agentId, conversationId: row.conversationId } : null;
}

/** UTC day `YYYY-MM-DD` of a time. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

export async function recordUsage(
  db: Database,
  identity: ConversationIdentity,
  input: { day: string; counters: TurnCounters; outcome: TurnOutcome },
  now: number,
): Promise<void> {
  const { counters } = input;
  await db.insert(agentTurnUsage).values({
    id: newId('use'),
    ...identity,
    day: input.day,
    inputTokens: counters.inputTokens,
    outputTokens: counters.outputTokens,
    toolCalls: counters.toolCalls,
    steps: counters.steps,
    durationMs: counters.elapsedMs,
    outcome: input.outcome,
    createdAt: now,
  });
}

/** Tokens (input + output) the agent used on a UTC day. */
export async function tokensUsedOn(db: Database, workspaceId: string, agentId: string, day: string): Promise<number> {
  const [row] = await db
    .select({ total: sql<number>`coalesce(sum(${agentTurnUsage.inputTokens} + ${agentTurnUsage.outputTokens}), 0)` })
    .from(agentTurnUsage)
    .where(and(eq(agentTurnUsage.workspaceId, workspaceId), eq(agentTurnUsage.agentId, agentId), eq(agentTurnUsage.day, day)));
  return Number(row?.total ?? 0);
}

/** Usage per UTC day, newest first (at most `days` days). */
export function usageByDay(db: Database, workspaceId: string, agentId: string, days: number) {
  return db
    .select({
      day: agentTurnUsage.day,
      turns: sql<number>`count(*)`,
      inputTokens: sql<number>`sum(${agentTurnUsage.inputTokens})`,
      outputTokens: sql<number>`sum(${agentTurnUsage.outputTokens})`,
      toolCalls: sql<number>`sum(${agentTurnUsage.toolCalls})`,
      steps: sql<number>`sum(${agentTurnUsage.steps})`,
      durationMs: sql<number>`sum(${agentTurnUsage.durationMs})`,
    })
    .from(agentTurnUsage)
    .where(and(eq(agentTurnUsage.workspaceId, workspaceId), eq(agentTurnUsage.agentId, agentId)))
    .groupBy(agentTurnUsage.day)
    .orderBy(desc(agentTurnUsage.day))
    .limit(days);
}
