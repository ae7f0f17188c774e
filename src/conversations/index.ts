/** The agent runtime: conversations, the turn loop, its REST routes and the webhook hand-off (docs/agents.md). */
export { Conversation, LEASE_GRACE_MS, type ConversationOutbound } from './conversation-object';
export { INTERRUPTED_REPLY } from './channel-turn';
export { MAX_QUEUED_CHANNEL_TURNS } from './channel-queue';
export { compactionCut, MAX_TRANSCRIPT_BYTES, MAX_TRANSCRIPT_MESSAGES } from './compaction';
export { conversationDelivery } from './delivery';
export { resumeOnDecision } from './approvals';
export { conversationRoutes } from './routes';
export { conversationSealedStore } from './rotation';
export {
  agentActor,
  agentUsage,
  CONVERSATION_PAGE_MAX,
  deleteConversation,
  forgetAgentConversations,
  getConversation,
  listAgentConversations,
} from './conversations';
export { utcDay } from './store';
export { DEFAULT_TURN_LIMITS, LIMIT_REPLIES, resolveTurnLimits, TURN_QUEUE_WAIT_MS } from './limits';
export { APPROVAL_EXPIRED_REPLY, startTurn, resumeTurn, type RuntimeDeps, type TurnResult } from './turn';
export { BUSY_REPLY, PAUSED_REPLY, WAITING_FOR_APPROVAL_REPLY } from './channel-reply';
export type { ConversationIdentity, PausedTurn, TurnOrigin } from './types';
