/**
 * What sendReply sends: one HTTP request per platform message, built from a reply. Nothing
 * here connects; outbound.ts sends the requests in order.
 */
import type { ReplyHandle } from '../inbound';
import { checkSlackResponseUrl, telegramApiBaseUrl, type TelegramApiSettings } from './destinations';
import { splitReplyText } from './split';

/** Longest platform message, in UTF-16 code units (Discord content 2,000; Slack text 40,000; Telegram 4,096). */
export const MAX_REPLY_CHARS = { discord: 2000, slack: 40_000, telegram: 4096 } as const;
/** Most platform messages one reply becomes; past this the reply is cut and says so. */
export const MAX_REPLY_MESSAGES = 10;
/** Slack accepts at most five messages per `response_url`. */
export const SLACK_RESPONSE_URL_MAX_USES = 5;
/** A Discord interaction token is valid for 15 minutes from the interaction. */
export const DISCORD_INTERACTION_TOKEN_LIFE_MS = 15 * 60 * 1000;
/** A Slack `response_url` is valid for 30 minutes from the command. */
export const SLACK_RESPONSE_URL_LIFE_MS = 30 * 60 * 1000;
/** A short-lived handle this close to its expiry is no longer used: the message must arrive while it is valid. */
export const EXPIRY_MARGIN_MS = 30 * 1000;
/** Discord message flag SUPPRESS_EMBEDS (1 << 2). */
const DISCORD_SUPPRESS_EMBEDS = 4;

export type ReplyFailure =
  | 'timeout'
  | 'network'
  | 'http-status'
  | 'platform-error'
  | 'no-bot-token'
  /** The Discord interaction token or Slack response_url has expired (or the handle has no valid time). */
  | 'expired'
  /** A response_url not on hooks.slack.com, or a refused TELEGRAM_API_BASE_URL: nothing sent. */
  | 'bad-destination'
  /** Nothing to say: an empty or blank text. */
  | 'empty-reply';

export interface Reply {
  handle: ReplyHandle;
  text: string;
  /** From the vault; Slack chat.postMessage and Telegram need one, a Discord follow-up and a response_url do not. */
  botToken?: string;
}

export interface OutboundRequest {
  url: string;
  init: RequestInit;
  /** Values that must never appear in a log line: tokens, and the URL that may carry one. */
  secrets: string[];
  /** Epoch ms after which this request must not be sent (short-lived handles), minus EXPIRY_MARGIN_MS. */
  notAfter: number | null;
  /** Slack and Telegram answer HTTP 200 with `{"ok":false}` when they refuse a call. */
  okField: boolean;
}

export type ReplyPlan = { ok: true; requests: OutboundRequest[] } | { ok: false; reason: ReplyFailure; detail: string };

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

/**
 * Slack reads `&`, `<` and `>` as markup (`<!channel>`, `<@U…>`, `<https://evil|https://bank>`);
 * escaped, an agent's text is shown as written and can neither ping a channel nor mislabel a link.
 */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function post(url: string, body: unknown, extra: Partial<OutboundRequest> & { secrets: string[] }, headers = {}): OutboundRequest {
  return {
    url,
    init: { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) },
    notAfter: null,
    okField: false,
    ...extra,
  };
}

function expiryOf(issuedAt: unknown, lifeMs: number): number | null {
  return typeof issuedAt === 'number' && Number.isSafeInteger(issuedAt) && issuedAt > 0 ? issuedAt + lifeMs - EXPIRY_MARGIN_MS : null;
}

/**
 * Turns a reply into the requests that deliver it, or says why none can be sent. Every
 * message disables what would ping or fetch on the agent's behalf: Discord
 * `allowed_mentions: {parse: []}` and SUPPRESS_EMBEDS, Slack escaped text and no unfurls,
 * Telegram plain text without link previews (a preview is a fetch of an agent-chosen URL,
 * by the platform, that can carry data out in its query).
 */
export function planReply(reply: Reply, settings: TelegramApiSettings): ReplyPlan {
  const { handle } = reply;
  switch (handle.platform) {
    case 'discord': {
      const notAfter = expiryOf(handle.interactionAt, DISCORD_INTERACTION_TOKEN_LIFE_MS);
      if (notAfter === null) return { ok: false, reason: 'expired', detail: 'interaction time missing' };
      const url = `https://discord.com/api/v10/webhooks/${encodeURIComponent(handle.applicationId)}/${encodeURIComponent(handle.interactionToken)}`;
      const parts = splitReplyText(reply.text, { limit: MAX_REPLY_CHARS.discord, maxParts: MAX_REPLY_MESSAGES, fences: true });
      return {
        ok: true,
        requests: parts.map((content) =>
          post(
            url,
            { content, allowed_mentions: { parse: [] }, flags: DISCORD_SUPPRESS_EMBEDS },
            { secrets: [handle.interactionToken, url], notAfter },
          ),
        ),
      };
    }
    case 'slack': {
      const text = escapeSlackText(reply.text);
      if ('responseUrl' in handle) {
        const notAfter = expiryOf(handle.receivedAt, SLACK_RESPONSE_URL_LIFE_MS);
        if (notAfter === null) return { ok: false, reason: 'expired', detail: 'command time missing' };
        const destination = checkSlackResponseUrl(handle.responseUrl);
        if (!destination.ok) return { ok: false, reason: 'bad-destination', detail: `response_url refused: ${destination.reason}` };
        const parts = splitReplyText(text, {
          limit: MAX_REPLY_CHARS.slack,
          maxParts: SLACK_RESPONSE_URL_MAX_USES,
          entities: true,
          fences: true,
        });
        return {
          ok: true,
          requests: parts.map((part) =>
            post(
              destination.url,
              { text: part, response_type: 'ephemeral', unfurl_links: false, unfurl_media: false },
              { secrets: [destination.url], notAfter },
            ),
          ),
        };
      }
      if (!reply.botToken) return { ok: false, reason: 'no-bot-token', detail: 'connector has no bot token' };
      const parts = splitReplyText(text, { limit: MAX_REPLY_CHARS.slack, maxParts: MAX_REPLY_MESSAGES, entities: true, fences: true });
      return {
        ok: true,
        requests: parts.map((part) =>
          post(
            'https://slack.com/api/chat.postMessage',
            { channel: handle.channel, thread_ts: handle.threadTs, text: part, unfurl_links: false, unfurl_media: false },
            { secrets: [reply.botToken ?? ''], okField: true },
            { Authorization: `Bearer ${reply.botToken}` },
          ),
        ),
      };
    }
    case 'telegram': {
      if (!reply.botToken) return { ok: false, reason: 'no-bot-token', detail: 'connector has no bot token' };
      const base = telegramApiBaseUrl(settings);
      if (!base.ok) return { ok: false, reason: 'bad-destination', detail: `TELEGRAM_API_BASE_URL refused: ${base.reason}` };
      const url = `${base.url}/bot${reply.botToken}/sendMessage`;
      const parts = splitReplyText(reply.text, { limit: MAX_REPLY_CHARS.telegram, maxParts: MAX_REPLY_MESSAGES });
      return {
        ok: true,
        requests: parts.map((text, index) =>
          post(
            url,
            {
              chat_id: handle.chatId,
              text,
              // The first part answers the user's message; the rest follow it.
              ...(index === 0 ? { reply_parameters: { message_id: handle.replyToMessageId, allow_sending_without_reply: true } } : {}),
              ...(handle.messageThreadId === undefined ? {} : { message_thread_id: handle.messageThreadId }),
              link_preview_options: { is_disabled: true },
            },
            { secrets: [reply.botToken ?? '', url], okField: true },
          ),
        ),
      };
    }
  }
}
