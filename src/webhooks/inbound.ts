/** The three chat platforms a connector can front. */
export const PLATFORMS = ['discord', 'slack', 'telegram'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * Where and how an answer goes back. It holds no bot token: those come from the vault when
 * the reply is sent. A Discord interaction token is itself the (15-minute) credential for
 * the follow-up webhook, so a handle must never be logged.
 */
export type ReplyHandle =
  | { platform: 'discord'; applicationId: string; interactionToken: string }
  | { platform: 'slack'; channel: string; threadTs: string }
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
