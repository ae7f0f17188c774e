/**
 * The agent runtime's REST domain functions: each is what one route does after
 * authentication and validation, answering an Outcome (house style, like src/agents).
 * A foreign agent or conversation answers not-found, exactly like a missing one.
 */
import { agentInWorkspace } from '../agents';
import type { Principal } from '../auth';
import { createDb } from '../db';
import type { Env } from '../env';
import { ApiError, done, refused, type Outcome } from '../http';
import { callerOf } from '../tools';
import { workspaceRedactor } from '../vault';
import {
  conversationIdsOf,
  conversationOf,
  conversationStub,
  deleteConversationRow,
  identityOf,
  listConversations,
  newRestConversation,
  usageByDay,
  type ConversationRow,
} from './store';
import { startTurn, type RuntimeDeps, type TurnResult } from './turn';
import type { StoredMessage } from './types';

/** The actor an agent's turn acts as in the audit log and on its invocations. */
export function agentActor(agentId: string): string {
  return `agent:${agentId}`;
}

const NO_MODEL = { kind: 'conflict', message: 'This agent has no model configured: PATCH /api/v1/agents/:id with a model first.' } as const;
const BUSY = { kind: 'conflict', message: 'The previous message in this conversation is still being answered.' } as const;
const PAUSED = {
  kind: 'conflict',
  message: 'This conversation waits for an approval; it takes new messages once that is decided.',
} as const;

/**
 * POST /api/v1/agents/:id/messages. The tool calls of the turn are made as `agent:<id>`, on
 * behalf of the caller: the approval remembers the caller's credential (and, from a session,
 * the person) as requester, so the caller can never approve the agent's call, and the agent's
 * own `tools:invoke` key can never approve anything (approval-routes.ts rules 1 and 3).
 */
export async function sendMessage(
  deps: RuntimeDeps,
  actor: Principal,
  input: { agentId: string; text: string; conversationId?: string },
): Promise<Outcome<Exclude<TurnResult, { status: 'busy' | 'paused' }>>> {
  const db = createDb(deps.env.DB);
  // The agent and the named conversation are read together (both keyed by the ids given, in the caller's workspace).
  const [agent, named] = await Promise.all([
    agentInWorkspace(db, actor.workspaceId, input.agentId),
    input.conversationId === undefined ? undefined : conversationOf(db, actor.workspaceId, input.agentId, input.conversationId),
  ]);
  if (!agent) return refused({ kind: 'not-found' });
  if (!agent.model) return refused(NO_MODEL);
  let conversation: ConversationRow | undefined;
  if (input.conversationId !== undefined) {
    conversation = named;
    // Channel conversations are answered on their channel, not over REST.
    if (!conversation || !conversation.channelKey.startsWith('rest:')) return refused({ kind: 'not-found' });
  } else {
    conversation = await newRestConversation(db, actor.workspaceId, agent.id, deps.now());
  }
  const caller = { actor: agentActor(agent.id), requester: callerOf(actor).requester };
  const result = await startTurn(deps, { identity: identityOf(conversation), agent, text: input.text, origin: { kind: 'rest' }, caller });
  if (result.status === 'busy') return refused(BUSY);
  if (result.status === 'paused') return refused(PAUSED);
  return done(result);
}

/** Conversations per page unless the caller asks for fewer (the API's upper bound too). */
export const CONVERSATION_PAGE_MAX = 200;
const CURSOR_PATTERN = /^(\d{1,15})\.(cnv_[0-9a-f]{32})$/;

/**
 * GET …/conversations: one page, most recent first. `cursor` is the `nextCursor` of the page
 * before (`<updatedAt>.<id>` of its last row); anything else is refused, never guessed at.
 */
export async function listAgentConversations(
  deps: Pick<RuntimeDeps, 'env'>,
  actor: Principal,
  agentId: string,
  page: { cursor?: string | undefined; limit?: number | undefined } = {},
) {
  const db = createDb(deps.env.DB);
  const agent = await agentInWorkspace(db, actor.workspaceId, agentId);
  if (!agent) return refused({ kind: 'not-found' });
  const match = page.cursor === undefined ? null : CURSOR_PATTERN.exec(page.cursor);
  if (page.cursor !== undefined && !match)
    return refused({ kind: 'invalid', message: 'The cursor is not one this API gave out.', fields: ['cursor'] });
  const after = match ? { updatedAt: Number(match[1]), id: match[2] ?? '' } : undefined;
  const limit = Math.min(Math.max(page.limit ?? CONVERSATION_PAGE_MAX, 1), CONVERSATION_PAGE_MAX);
  // One row more than asked says whether another page follows, without a count query.
  const rows = await listConversations(db, actor.workspaceId, agent.id, { limit: limit + 1, after });
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  const nextCursor = rows.length > limit && last ? `${last.updatedAt}.${last.id}` : null;
  return done({ conversations: shown.map(summaryOf), nextCursor });
}

function summaryOf(row: ConversationRow) {
  return {
    id: row.id,
    channel: row.channelKey.startsWith('rest:') ? 'rest' : (row.channelKey.split(':')[0] ?? 'unknown'),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

type TranscriptEntry = {
  role: 'user' | 'assistant' | 'tool' | 'system';
  text?: string;
  toolCalls?: Array<{ tool: string; arguments: string }>;
  toolResult?: { tool: string; output: string };
};

function entryOf(message: StoredMessage): TranscriptEntry {
  if (typeof message.content === 'string') return { role: message.role, text: message.content };
  const entry: TranscriptEntry = { role: message.role };
  const texts: string[] = [];
  for (const part of message.content) {
    if (part.type === 'text') texts.push(part.text);
    else if (part.type === 'tool-call') (entry.toolCalls ??= []).push({ tool: part.toolName, arguments: JSON.stringify(part.input) });
    else if (part.type === 'tool-result') {
      const output = part.output.type === 'text' ? part.output.value : JSON.stringify(part.output);
      entry.toolResult = { tool: part.toolName, output };
    }
  }
  if (texts.length > 0) entry.text = texts.join('');
  return entry;
}

/** GET …/conversations/:cid: the transcript with the workspace's secrets and token shapes redacted (fails closed). */
export async function getConversation(deps: Pick<RuntimeDeps, 'env'>, actor: Principal, agentId: string, conversationId: string) {
  const db = createDb(deps.env.DB);
  const row = await conversationOf(db, actor.workspaceId, agentId, conversationId);
  if (!row) return refused({ kind: 'not-found' });
  const stored = await conversationStub(deps.env, row.id).transcript(identityOf(row));
  const redactor = workspaceRedactor(deps.env, actor.workspaceId);
  const raw = JSON.stringify(stored.messages.map(entryOf));
  const redacted = await redactor.redact(raw);
  // Nothing could be checked (vault unusable): refuse rather than show an unredacted transcript.
  if (!redacted.ok) throw new ApiError('SERVICE_UNAVAILABLE');
  const messages = JSON.parse(redacted.value) as TranscriptEntry[];
  return done({ ...summaryOf(row), status: stored.status, messages, pendingApprovalId: stored.paused?.approvalId ?? null });
}

/** DELETE …/conversations/:cid: the transcript (Durable Object storage) and the row. */
export async function deleteConversation(deps: Pick<RuntimeDeps, 'env'>, actor: Principal, agentId: string, conversationId: string) {
  const db = createDb(deps.env.DB);
  const row = await conversationOf(db, actor.workspaceId, agentId, conversationId);
  if (!row) return refused({ kind: 'not-found' });
  await conversationStub(deps.env, row.id).forget();
  await deleteConversationRow(db, row.id);
  return done({ deleted: true as const });
}

/**
 * The agent deletion hook (agents.ts AgentDeletionHook, wired in app.ts): every conversation
 * object of the agent deletes its storage and alarm (transcript, paused turn, queued channel
 * messages). The D1 rows then go with the agent (ON DELETE CASCADE).
 */
export async function forgetAgentConversations(
  env: Pick<Env, 'DB' | 'CONVERSATION'>,
  agent: { workspaceId: string; id: string },
): Promise<void> {
  const ids = await conversationIdsOf(createDb(env.DB), agent.workspaceId, agent.id);
  for (const id of ids) await conversationStub(env, id).forget();
}

export async function agentUsage(deps: Pick<RuntimeDeps, 'env'>, actor: Principal, agentId: string, days: number) {
  const db = createDb(deps.env.DB);
  const agent = await agentInWorkspace(db, actor.workspaceId, agentId);
  if (!agent) return refused({ kind: 'not-found' });
  const rows = await usageByDay(db, actor.workspaceId, agent.id, days);
  return done({
    agentId: agent.id,
    days: rows.map((r) => ({
      day: r.day,
      turns: Number(r.turns),
      inputTokens: Number(r.inputTokens),
      outputTokens: Number(r.outputTokens),
      toolCalls: Number(r.toolCalls),
      steps: Number(r.steps),
      durationMs: Number(r.durationMs),
    })),
  });
}
