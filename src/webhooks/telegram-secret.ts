import type { TelegramRejectReason } from './reject-reasons';
import { secretsEqual } from '../lib';

/** setWebhook's secret_token: 1–256 characters, A-Z a-z 0-9 _ - only. */
export const TELEGRAM_SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export type TelegramVerdict = { ok: true } | { ok: false; reason: TelegramRejectReason };

/**
 * Telegram signs nothing: X-Telegram-Bot-Api-Secret-Token is a shared secret. Precedence
 * (same numbers in docs/webhooks.md):
 *  1. the connector has a valid secret token       else not-configured
 *  2. the header is present and non-empty         else missing-secret
 *  3. equal byte for byte (case matters), compared in constant time else wrong-secret
 *  4. otherwise reject.
 */
export async function verifyTelegramSecret(expected: string | undefined, headerValue: string | undefined): Promise<TelegramVerdict> {
  // 1
  if (expected === undefined || !TELEGRAM_SECRET_TOKEN.test(expected)) return { ok: false, reason: 'not-configured' };
  // 2
  if (headerValue === undefined || headerValue === '') return { ok: false, reason: 'missing-secret' };
  // 3
  if (await secretsEqual(expected, headerValue)) return { ok: true };
  // 4
  return { ok: false, reason: 'wrong-secret' };
}
