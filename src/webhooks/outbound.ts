import { REDACTED, redactTokenShapes } from '../lib';
import type { ReplyHandle } from './inbound';

/** Every outbound call gives up after this long (the platforms answer in well under a second). */
export const OUTBOUND_TIMEOUT_MS = 10_000;
/** Platform responses are read up to this many bytes; the rest is never buffered. */
export const MAX_OUTBOUND_RESPONSE_BYTES = 64 * 1024;

/** Per-platform message length limits (Discord content 2000, Slack text ~40k, Telegram 4096). */
const MAX_REPLY_CHARS = { discord: 2000, slack: 40_000, telegram: 4096 } as const;

export type ReplyFailure = 'timeout' | 'network' | 'http-status' | 'platform-error' | 'no-bot-token';
export type ReplyResult = { ok: true } | { ok: false; reason: ReplyFailure; status: number | null };

export interface ReplyDeps {
  /** Injected so tests capture requests and simulate failures; production passes globalThis.fetch. */
  fetch: typeof fetch;
  /** One line per failure; every line has already been scrubbed. Defaults to console.warn. */
  log?: (line: string) => void;
  timeoutMs?: number;
}

export interface Reply {
  handle: ReplyHandle;
  text: string;
  /** From the vault; Slack and Telegram need one, a Discord follow-up does not. */
  botToken?: string;
}

interface OutboundRequest {
  url: string;
  init: RequestInit;
  /** Values that must never appear in a log line: tokens, and the URL that may carry one. */
  secrets: string[];
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

/** Telegram bot tokens (`123456:AA…`) are not among the generic token shapes in src/lib. */
const TELEGRAM_TOKEN_SHAPE = /\b[0-9]{5,16}:[A-Za-z0-9_-]{30,}\b/g;
/** Any URL in free text: the ones Portcullis calls carry tokens in the path. */
const URL_SHAPE = /\bhttps?:\/\/[^\s"'<>]+/gi;

/** Removes the known secrets, every URL and every token shape from a log line. */
export function scrubOutboundText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join(REDACTED);
  return redactTokenShapes(out.replace(URL_SHAPE, '[URL]').replace(TELEGRAM_TOKEN_SHAPE, REDACTED));
}

function buildRequest(reply: Reply): OutboundRequest | null {
  const { handle } = reply;
  switch (handle.platform) {
    case 'discord': {
      const url = `https://discord.com/api/v10/webhooks/${encodeURIComponent(handle.applicationId)}/${encodeURIComponent(handle.interactionToken)}`;
      // allowed_mentions parse [] — an agent echoing "@everyone" must not ping anyone.
      const body = { content: reply.text.slice(0, MAX_REPLY_CHARS.discord), allowed_mentions: { parse: [] } };
      return { url, init: { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) }, secrets: [handle.interactionToken, url] };
    }
    case 'slack': {
      if (!reply.botToken) return null;
      const body = { channel: handle.channel, thread_ts: handle.threadTs, text: reply.text.slice(0, MAX_REPLY_CHARS.slack) };
      return {
        url: 'https://slack.com/api/chat.postMessage',
        init: { method: 'POST', headers: { ...JSON_HEADERS, Authorization: `Bearer ${reply.botToken}` }, body: JSON.stringify(body) },
        secrets: [reply.botToken],
      };
    }
    case 'telegram': {
      if (!reply.botToken) return null;
      const url = `https://api.telegram.org/bot${reply.botToken}/sendMessage`;
      const body = {
        chat_id: handle.chatId,
        text: reply.text.slice(0, MAX_REPLY_CHARS.telegram),
        reply_parameters: { message_id: handle.replyToMessageId, allow_sending_without_reply: true },
        ...(handle.messageThreadId === undefined ? {} : { message_thread_id: handle.messageThreadId }),
      };
      return { url, init: { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) }, secrets: [reply.botToken, url] };
    }
  }
}

/** Reads at most maxBytes of a body and cancels the rest of the stream. */
export async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - total;
      chunks.push(value.length > room ? value.subarray(0, room) : value);
      total += Math.min(value.length, room);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(out);
}

/** Slack answers HTTP 200 with `{"ok":false,"error":"…"}` when it refuses a call. */
function platformRefused(platform: ReplyHandle['platform'], body: string): string | null {
  if (platform !== 'slack' && platform !== 'telegram') return null;
  try {
    const parsed = JSON.parse(body) as { ok?: unknown; error?: unknown; description?: unknown };
    if (parsed.ok === true) return null;
    return String(parsed.error ?? parsed.description ?? 'not ok').slice(0, 200);
  } catch {
    return 'unparseable response';
  }
}

/**
 * Sends one reply through the platform's API: Discord follow-up webhook, Slack
 * chat.postMessage or Telegram sendMessage. Never throws; failures are tagged and logged
 * as one scrubbed JSON line (no URL, no bot token, no interaction token).
 */
export async function sendReply(reply: Reply, deps: ReplyDeps): Promise<ReplyResult> {
  const log = deps.log ?? ((line: string) => console.warn(line));
  const platform = reply.handle.platform;
  const request = buildRequest(reply);
  const fail = (reason: ReplyFailure, status: number | null, detail: string, secrets: string[] = []): ReplyResult => {
    log(
      JSON.stringify({
        level: 'warn',
        event: 'webhook.reply.failed',
        platform,
        reason,
        status,
        detail: scrubOutboundText(detail, secrets),
      }),
    );
    return { ok: false, reason, status };
  };
  if (!request) return fail('no-bot-token', null, 'connector has no bot token');
  let response: Response;
  try {
    response = await deps.fetch(request.url, {
      ...request.init,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs ?? OUTBOUND_TIMEOUT_MS),
    });
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    const reason = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
    return fail(reason, null, `${name}: ${message}`, request.secrets);
  }
  const body = await readCapped(response, MAX_OUTBOUND_RESPONSE_BYTES).catch(() => '');
  if (response.status < 200 || response.status > 299) return fail('http-status', response.status, body.slice(0, 300), request.secrets);
  const refused = platformRefused(platform, body);
  if (refused !== null) return fail('platform-error', response.status, refused, request.secrets);
  return { ok: true };
}
