/** The three chat platforms a connector can front. */
export const PLATFORMS = ['discord', 'slack', 'telegram'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * Where and how an answer goes back. It holds no bot token: those come from the vault when
 * the reply is sent. A Discord interaction token and a Slack `response_url` are themselves
 * short-lived credentials (15 and 30 minutes), so a handle must never be logged; each carries
 * the instant it was issued, and sendReply refuses to use it once it has expired.
 */
export type ReplyHandle =
  /** Follow-up webhook of a deferred interaction; `interactionAt`: epoch ms, no later than Discord created it. */
  | { platform: 'discord'; applicationId: string; interactionToken: string; interactionAt: number }
  /** chat.postMessage in the thread of the message (bot token from the vault). */
  | { platform: 'slack'; channel: string; threadTs: string }
  /** A slash command's `response_url` (hooks.slack.com only); `receivedAt`: epoch ms. */
  | { platform: 'slack'; responseUrl: string; receivedAt: number }
  | { platform: 'telegram'; chatId: number; replyToMessageId: number; messageThreadId?: number };

/** One accepted, verified, de-duplicated chat message, as handed to the agent runtime. */
export interface InboundMessage {
  platform: Platform;
  connectorId: string;
  agentId: string;
  /** Stable per conversation (channel, thread or chat): the conversation object's key. */
  conversationKey: string;
  sender: { id: string; name?: string };
  text: string;
  replyHandle: ReplyHandle;
}

/** Who the message is for; known from the connector, never taken from the payload. */
export interface InboundTarget {
  connectorId: string;
  agentId: string;
}

/** Longest text accepted from a platform (Slack allows 40,000 characters, the most of the three). */
export const MAX_INBOUND_TEXT_CHARS = 40_000;

/** Upper bound on platform ids used in dedupe keys and conversation keys. */
export const MAX_PLATFORM_ID_CHARS = 128;
