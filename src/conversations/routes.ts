import { z } from '@hono/zod-openapi';
import { principalOf, secured, signedIn, type Clock } from '../auth';
import { streamSSE } from 'hono/streaming';
import { createRouter, errorResponses, jsonContent, problemToApiError, valueOf } from '../http';
import { agentUsage, deleteConversation, getConversation, listAgentConversations, sendMessage } from './conversations';
import {
  AgentParams,
  ConversationList,
  ConversationListQuery,
  ConversationParams,
  ConversationView,
  MessagePending,
  MessageReply,
  SendMessage,
  UsageQuery,
  UsageView,
} from './schemas';

const json = jsonContent;

const sendRoute = secured(
  {
    method: 'post',
    path: '/api/v1/agents/{id}/messages',
    operationId: 'sendAgentMessage',
    summary: 'Send a message to an agent and get its reply (scope tools:invoke)',
    description:
      'Runs one turn: the model, then each tool call through the invocation pipeline (arguments, approvals, sandbox), until a reply. A tool call that needs approval pauses the turn: 202, and the turn resumes when an operator decides (the reply then appears in the conversation). Messages to one conversation are answered one at a time.',
    request: { params: AgentParams, body: { required: true, ...json(SendMessage) } },
    responses: {
      200: {
        description:
          'The reply (or the reason the turn ended: a limit, a provider failure). With `Accept: text/event-stream`: `progress` events, then one `reply`, `pending_approval` or `error` event.',
        content: { 'application/json': { schema: MessageReply }, 'text/event-stream': { schema: z.string() } },
      },
      202: { description: 'Paused: a tool call waits for approval', ...json(MessagePending) },
      ...errorResponses(400, 401, 403, 404, 409, 429, 503),
    },
  },
  signedIn('tools:invoke'),
);
const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/agents/{id}/conversations',
    operationId: 'listAgentConversations',
    summary: "An agent's conversations, most recent first (scope agents:read)",
    request: { params: AgentParams, query: ConversationListQuery },
    responses: { 200: { description: 'Conversations', ...json(ConversationList) }, ...errorResponses(400, 401, 403, 404) },
  },
  signedIn('agents:read'),
);
const getRoute = secured(
  {
    method: 'get',
    path: '/api/v1/agents/{id}/conversations/{cid}',
    operationId: 'getAgentConversation',
    summary: 'One conversation with its transcript, secrets redacted (scope agents:read)',
    request: { params: ConversationParams },
    responses: { 200: { description: 'Conversation', ...json(ConversationView) }, ...errorResponses(401, 403, 404, 503) },
  },
  signedIn('agents:read'),
);
const deleteRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/agents/{id}/conversations/{cid}',
    operationId: 'deleteAgentConversation',
    summary: 'Delete a conversation and its transcript (scope agents:write)',
    request: { params: ConversationParams },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:write'),
);
const usageRoute = secured(
  {
    method: 'get',
    path: '/api/v1/agents/{id}/usage',
    operationId: 'getAgentUsage',
    summary: "An agent's usage per UTC day, newest first (scope agents:read)",
    request: { params: AgentParams, query: UsageQuery },
    responses: { 200: { description: 'Usage', ...json(UsageView) }, ...errorResponses(400, 401, 403, 404) },
  },
  signedIn('agents:read'),
);

/** The agent runtime's REST surface: parse, call the domain function (conversations.ts), map a refusal. */
export function conversationRoutes(deps: { now: Clock; fetch: typeof fetch }) {
  const router = createRouter();

  router.openapi(sendRoute, async (c) => {
    const body = c.req.valid('json');
    const input = {
      agentId: c.req.valid('param').id,
      text: body.text,
      ...(body.conversationId ? { conversationId: body.conversationId } : {}),
    };
    const runtime = { env: c.env, now: deps.now, fetch: deps.fetch, requestId: c.get('requestId') };
    const principal = principalOf(c);
    // Accept: text/event-stream: `progress` events as the turn goes (names and counts, never text), then one
    // `reply` or `pending_approval` event with the JSON body, or an `error` event with the usual envelope.
    if ((c.req.header('Accept') ?? '').includes('text/event-stream')) {
      return streamSSE(c, async (stream) => {
        const outcome = await sendMessage(
          { ...runtime, onProgress: (p) => void stream.writeSSE({ event: 'progress', data: JSON.stringify(p) }) },
          principal,
          input,
        );
        if (!outcome.ok) {
          const error = problemToApiError(outcome.problem);
          await stream.writeSSE({
            event: 'error',
            data: JSON.stringify({ error: { code: error.code, message: error.message, requestId: c.get('requestId') } }),
          });
          return;
        }
        const result = outcome.value;
        await stream.writeSSE({ event: result.status === 'pending_approval' ? 'pending_approval' : 'reply', data: JSON.stringify(result) });
      }) as never;
    }
    const result = valueOf(await sendMessage(runtime, principal, input));
    if (result.status === 'pending_approval') return c.json(result, 202);
    const { conversationId, reply, outcome, toolCalls, usage } = result;
    return c.json({ conversationId, reply, outcome, toolCalls, usage }, 200);
  });

  router.openapi(listRoute, async (c) =>
    c.json(valueOf(await listAgentConversations({ env: c.env }, principalOf(c), c.req.valid('param').id, c.req.valid('query'))), 200),
  );

  router.openapi(getRoute, async (c) => {
    const { id, cid } = c.req.valid('param');
    return c.json(valueOf(await getConversation({ env: c.env }, principalOf(c), id, cid)), 200);
  });

  router.openapi(deleteRoute, async (c) => {
    const { id, cid } = c.req.valid('param');
    valueOf(await deleteConversation({ env: c.env }, principalOf(c), id, cid));
    return c.body(null, 204);
  });

  router.openapi(usageRoute, async (c) =>
    c.json(valueOf(await agentUsage({ env: c.env }, principalOf(c), c.req.valid('param').id, c.req.valid('query').days ?? 30)), 200),
  );

  return router;
}
