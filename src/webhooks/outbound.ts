import { createLogThrottle, REDACTED, redactTokenShapes, type LogThrottle } from '../lib';
import type { TelegramApiSettings } from './replies/destinations';
import { planReply, type Reply, type ReplyFailure } from './replies/requests';

export type { Reply, ReplyFailure } from './replies/requests';

/** Every outbound call gives up after this long (the platforms answer in well under a second). */
export const OUTBOUND_TIMEOUT_MS = 10_000;
/** Platform responses are read up to this many bytes; the rest is never buffered. */
export const MAX_OUTBOUND_RESPONSE_BYTES = 64 * 1024;

export type ReplyResult =
  /** `sent`: platform messages delivered (a long reply is several). */
  | { ok: true; sent: number }
  /** Sending stopped at the first failure; `sent` messages had already gone out. */
  | { ok: false; reason: ReplyFailure; status: number | null; sent: number };

export interface ReplyDeps {
  /** Injected so tests capture requests and simulate failures; production passes globalThis.fetch. */
  fetch: typeof fetch;
  /** Where failure lines go; every line has already been scrubbed. Defaults to console.warn. */
  log?: (line: string) => void;
  /**
   * Which failure lines are written. The default sink (console.warn) is throttled by
   * REPLY_FAILURE_LOG, one line per platform and reason per minute in this isolate; an
   * injected `log` gets every line unless a throttle is injected with it.
   */
  logThrottle?: LogThrottle;
  /** Per message. */
  timeoutMs?: number;
  /** Epoch ms, for the expiry of Discord interaction tokens and Slack response_urls. Defaults to Date.now. */
  clock?: () => number;
  /** The operator's Telegram Bot API settings; pass the Worker's `env` (unset: api.telegram.org). */
  settings?: TelegramApiSettings;
}

/**
 * Every failed reply is in the audit log (`webhook.reply.failed`, written by both callers);
 * the log line is the operator's signal, so a platform failing every reply, or a connector
 * without a bot token answering a flood, writes one line a minute per reason, not one per event.
 */
export const REPLY_FAILURE_LOG = createLogThrottle(60_000);

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

/** Slack and Telegram answer HTTP 200 with `{"ok":false,"error"|"description":"…"}` when they refuse a call. */
function platformRefused(body: string): string | null {
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
 * chat.postMessage or a slash command's response_url, Telegram sendMessage. A long text
 * goes as several messages (MAX_REPLY_CHARS per platform, at most MAX_REPLY_MESSAGES, split
 * at newlines, then spaces, never inside a surrogate pair), in order, stopping at the first
 * failure. A short-lived handle is checked before every message and never used once expired.
 * Never throws; a failure is tagged and logged as one scrubbed JSON line (no URL, no bot
 * token, no interaction token).
 */
export async function sendReply(reply: Reply, deps: ReplyDeps): Promise<ReplyResult> {
  const log = deps.log ?? ((line: string) => console.warn(line));
  const clock = deps.clock ?? Date.now;
  const platform = reply.handle.platform;
  let sent = 0;
  const fail = (reason: ReplyFailure, status: number | null, detail: string, secrets: string[] = []): ReplyResult => {
    const throttle = deps.logThrottle ?? (deps.log ? null : REPLY_FAILURE_LOG);
    const suppressed = throttle ? throttle.admit(`${platform}:${reason}`, clock()) : 0;
    if (suppressed !== null)
      log(
        JSON.stringify({
          level: 'warn',
          event: 'webhook.reply.failed',
          platform,
          reason,
          status,
          sent,
          detail: scrubOutboundText(detail, secrets),
          ...(suppressed > 0 ? { suppressed } : {}),
        }),
      );
    return { ok: false, reason, status, sent };
  };
  const plan = planReply(reply, deps.settings ?? {});
  if (!plan.ok) return fail(plan.reason, null, plan.detail);
  if (plan.requests.length === 0) return fail('empty-reply', null, 'reply text is empty');
  for (const request of plan.requests) {
    if (request.notAfter !== null && !(clock() < request.notAfter)) return fail('expired', null, 'reply handle expired', request.secrets);
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
    const refused = request.okField ? platformRefused(body) : null;
    if (refused !== null) return fail('platform-error', response.status, refused, request.secrets);
    sent++;
  }
  return { ok: true, sent };
}
