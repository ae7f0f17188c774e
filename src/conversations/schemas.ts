import { z } from '@hono/zod-openapi';

/** Longest message text accepted over REST (the same bound as the longest chat platform message). */
export const MAX_MESSAGE_TEXT_CHARS = 40_000;

export const ConversationId = z.string().regex(/^cnv_[0-9a-f]{32}$/);

export const AgentParams = z.object({ id: z.string().min(1).max(64) });
export const ConversationParams = z.object({ id: z.string().min(1).max(64), cid: z.string().min(1).max(64) });

export const SendMessage = z
  .strictObject({
    text: z.string().min(1).max(MAX_MESSAGE_TEXT_CHARS),
    conversationId: ConversationId.optional().openapi({ description: 'Continue this conversation; omitted = a new one.' }),
  })
  .openapi('SendMessageRequest');

const Usage = z.object({
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  toolCalls: z.number().int(),
  steps: z.number().int(),
  durationMs: z.number().int(),
});
const ToolCallSummary = z.object({ tool: z.string(), status: z.string(), invocationId: z.string().nullable() });

export const MessageReply = z
  .object({
    conversationId: z.string(),
    reply: z.string(),
    outcome: z.string().openapi({ description: '`replied`, or why the turn ended: `model-failed`, `limit-*`, `approval-expired`…' }),
    toolCalls: z.array(ToolCallSummary),
    usage: Usage,
  })
  .openapi('MessageReply');

export const MessagePending = z
  .object({
    conversationId: z.string(),
    status: z.literal('pending_approval'),
    approvalId: z.string(),
    toolCalls: z.array(ToolCallSummary),
    usage: Usage,
  })
  .openapi('MessagePending');

export const ConversationSummary = z
  .object({ id: z.string(), channel: z.string(), createdAt: z.number().int(), updatedAt: z.number().int() })
  .openapi('ConversationSummary');
export const ConversationList = z
  .object({
    conversations: z.array(ConversationSummary),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  })
  .openapi('ConversationList');
export const ConversationListQuery = z.object({
  cursor: z.string().max(100).optional().openapi({ description: 'The `nextCursor` of the previous page.' }),
  limit: z.coerce.number().int().min(1).max(200).optional().openapi({ description: 'Conversations per page (default and most: 200).' }),
});

const TranscriptEntry = z.object({
  role: z.enum(['user', 'assistant', 'tool', 'system']),
  text: z.string().optional(),
  toolCalls: z.array(z.object({ tool: z.string(), arguments: z.string() })).optional(),
  toolResult: z.object({ tool: z.string(), output: z.string() }).optional(),
});
export const ConversationView = ConversationSummary.extend({
  status: z.enum(['idle', 'pending_approval', 'running']).openapi({
    description:
      '`pending_approval`: a turn waits for an approval; `running`: a turn runs or is about to (a decided approval resumes it inside the conversation, then its reply is the last entry); `idle`: nothing is running.',
  }),
  messages: z.array(TranscriptEntry),
  pendingApprovalId: z.string().nullable(),
}).openapi('Conversation');

export const UsageQuery = z.object({ days: z.coerce.number().int().min(1).max(366).optional() });
export const UsageView = z
  .object({
    agentId: z.string(),
    days: z.array(Usage.extend({ day: z.string(), turns: z.number().int() })),
  })
  .openapi('AgentUsage');
