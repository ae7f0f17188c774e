/**
 * What the agent runtime tests share: an agent with the test manifest's tools and a model
 * (and guards), a message through POST /api/v1/agents/:id/messages, the audit events of
 * one agent, and a signed Slack message event.
 */
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { bytesToHex } from '../../src/lib';
import { slackV0Mac } from '../../src/webhooks';
import { asSession, type Session } from './identity-helpers';
import { TEST_MANIFEST, type toolApp } from './tools-support';

export type RuntimeCall = ReturnType<typeof toolApp>;

export interface RuntimeReply {
  conversationId: string;
  reply: string;
  outcome: string;
  toolCalls: Array<{ tool: string; status: string; invocationId: string | null }>;
  usage: { inputTokens: number; outputTokens: number; toolCalls: number; steps: number; durationMs: number };
}

/** A sandboxed agent with the test manifest installed (with `tools` settings), then PATCHed with `model` (and `guards`). */
export async function modelAgent(
  owner: Session,
  name: string,
  config: {
    model: Record<string, unknown>;
    guards?: Record<string, unknown>;
    settings?: Record<string, unknown>;
    tools?: Record<string, unknown>;
  },
): Promise<string> {
  const created = await asSession(owner, '/api/v1/agents', {
    method: 'POST',
    body: { name, isolation: 'sandbox', settings: config.settings ?? {} },
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const tools = await asSession(owner, `/api/v1/agents/${id}/tools`, {
    method: 'POST',
    body: { manifest: TEST_MANIFEST, tools: config.tools ?? {} },
  });
  expect(tools.status).toBe(201);
  const patched = await asSession(owner, `/api/v1/agents/${id}`, {
    method: 'PATCH',
    body: { model: config.model, ...(config.guards ? { guards: config.guards } : {}) },
  });
  expect(patched.status).toBe(200);
  return id;
}

/** POST …/messages as `session`, in `conversationId` if given; the response as it came (202, 409 …). */
export async function postMessage(
  call: RuntimeCall,
  session: Session,
  agentId: string,
  text: string,
  conversationId?: string,
): Promise<Response> {
  return call(session, `/api/v1/agents/${agentId}/messages`, {
    method: 'POST',
    body: { text, ...(conversationId ? { conversationId } : {}) },
  });
}

/** A message that must be answered (200): its reply. */
export async function message(call: RuntimeCall, session: Session, agentId: string, text: string): Promise<RuntimeReply> {
  const res = await postMessage(call, session, agentId, text);
  expect(res.status).toBe(200);
  return (await res.json()) as RuntimeReply;
}

/** The audit events of one kind (or `agent.guard.%`) for one agent, oldest first. */
export async function agentAudit(kind: string, agentId: string): Promise<Array<Record<string, unknown>>> {
  const rows = await env.DB.prepare(`SELECT data FROM audit_events WHERE kind LIKE ? AND json_extract(data, '$.agentId') = ? ORDER BY seq`)
    .bind(kind, agentId)
    .all<{ data: string }>();
  return rows.results.map((row) => JSON.parse(row.data) as Record<string, unknown>);
}

/**
 * A user's message in a Slack thread (channel C9, user U42) as the Events API delivers it,
 * signed as Slack signs it (v0 HMAC over `v0:<ts>:<body>`, ts = now): the raw body and the
 * two signature headers.
 */
export async function signedSlackMessage(
  signingSecret: string,
  message: { eventId: string; text: string; ts: string; thread: string },
): Promise<{ raw: string; headers: Record<string, string> }> {
  const raw = JSON.stringify({
    type: 'event_callback',
    event_id: message.eventId,
    team_id: 'T1',
    event: { type: 'message', user: 'U42', text: message.text, channel: 'C9', ts: message.ts, thread_ts: message.thread },
  });
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = `v0=${bytesToHex(await slackV0Mac(signingSecret, ts, new TextEncoder().encode(raw)))}`;
  return { raw, headers: { 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': mac } };
}
