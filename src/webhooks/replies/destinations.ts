/**
 * The two reply destinations that are not fixed constants: a Slack slash command's
 * `response_url` (chosen by whoever signed the request) and the Telegram Bot API base URL
 * (chosen by the operator). Each is checked before any connection, by a numbered list that
 * ends in refusal (the same numbers in docs/webhooks.md).
 */
import { hostPortList, hostText, parseHost } from '../../policy';

/** The one host a `response_url` may name. */
export const SLACK_RESPONSE_URL_HOST = 'hooks.slack.com';
/** Where Telegram replies go unless the operator runs their own Bot API server. */
export const DEFAULT_TELEGRAM_API_BASE_URL = 'https://api.telegram.org';
const MAX_URL_CHARS = 2048;

export type DestinationRefusal = 'malformed-url' | 'scheme' | 'userinfo' | 'query-or-fragment' | 'host' | 'port' | 'private-host';

export type Destination = { ok: true; url: string } | { ok: false; reason: DestinationRefusal };

function parseUrl(raw: string): URL | null {
  if (raw.length === 0 || raw.length > MAX_URL_CHARS) return null;
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/**
 * A slash command's `response_url`. Precedence:
 *  1. an absolute URL of at most 2,048 characters                else malformed-url
 *  2. scheme `https:`                                            else scheme
 *  3. no userinfo (`https://hooks.slack.com@evil.example/`)      else userinfo
 *  4. host exactly `hooks.slack.com` (no trailing dot, no other
 *     Slack host, no look-alike; compared after URL parsing)     else host
 *  5. the default port                                           else port
 *  6. otherwise refused.
 * The answer is the parsed URL's own serialisation, without fragment: what is checked is what is fetched.
 */
export function checkSlackResponseUrl(raw: string): Destination {
  // 1
  const url = parseUrl(raw);
  if (!url) return { ok: false, reason: 'malformed-url' };
  // 2
  if (url.protocol !== 'https:') return { ok: false, reason: 'scheme' };
  // 3
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'userinfo' };
  // 4
  if (url.hostname !== SLACK_RESPONSE_URL_HOST) return { ok: false, reason: 'host' };
  // 5
  if (url.port !== '') return { ok: false, reason: 'port' };
  url.hash = '';
  return { ok: true, url: url.href };
}

/** Operator settings the Telegram reply path reads (wrangler [vars] or secrets; src/env.ts). */
export interface TelegramApiSettings {
  /** Base URL of a self-run Bot API server, e.g. `https://tg-api.internal.example` (default api.telegram.org). */
  TELEGRAM_API_BASE_URL?: string | undefined;
  /** `host:port,…` the base URL may name although private, over `http:` too (operator only). */
  TELEGRAM_PRIVATE_HOSTS?: string | undefined;
}

/**
 * The Telegram Bot API base URL. Precedence:
 *  1. TELEGRAM_API_BASE_URL unset or blank → https://api.telegram.org
 *  2. an absolute URL of at most 2,048 characters                          else malformed-url
 *  3. no userinfo, query or fragment (the bot token follows in the path)   else userinfo / query-or-fragment
 *  4. scheme `https:` or `http:`                                           else scheme
 *  5. its host:port (port explicit or the scheme's default) is listed in
 *     TELEGRAM_PRIVATE_HOSTS → allowed, `http:` included
 *  6. `http:` for a host not listed                                        → scheme
 *  7. a host that is a private or special-use address or name              → private-host
 *  8. otherwise (https, public host) → allowed.
 * The answer has no trailing slash; a path prefix is kept.
 */
export function telegramApiBaseUrl(settings: TelegramApiSettings): Destination {
  const raw = settings.TELEGRAM_API_BASE_URL?.trim() ?? '';
  // 1
  if (raw === '') return { ok: true, url: DEFAULT_TELEGRAM_API_BASE_URL };
  // 2
  const url = parseUrl(raw);
  const host = url ? parseHost(url.hostname) : null;
  if (!url || !host) return { ok: false, reason: 'malformed-url' };
  // 3
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'userinfo' };
  if (url.search !== '' || url.hash !== '' || raw.includes('#') || raw.includes('?')) return { ok: false, reason: 'query-or-fragment' };
  // 4
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'scheme' };
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  // 5
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const listed = hostPortList(settings.TELEGRAM_PRIVATE_HOSTS).some((entry) => entry.host === hostText(host) && entry.port === port);
  if (listed) return { ok: true, url: base };
  // 6
  if (url.protocol !== 'https:') return { ok: false, reason: 'scheme' };
  // 7
  if (host.private) return { ok: false, reason: 'private-host' };
  // 8
  return { ok: true, url: base };
}
