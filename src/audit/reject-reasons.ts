/**
 * Why a hook request was refused, per platform: internal detail for the audit log only, never
 * sent to the caller. Declared here, beside the events that carry them, so src/audit imports
 * nothing from src/webhooks (which records these events).
 */
export type DiscordRejectReason =
  | 'missing-headers'
  | 'malformed-signature'
  | 'malformed-public-key'
  | 'malformed-timestamp'
  | 'stale-timestamp'
  | 'non-canonical-s'
  | 'unacceptable-public-key'
  | 'bad-signature';

export type SlackRejectReason =
  | 'not-configured'
  | 'missing-headers'
  | 'malformed-timestamp'
  | 'stale-timestamp'
  | 'unknown-signature-version'
  | 'malformed-signature'
  | 'bad-signature';

export type TelegramRejectReason = 'not-configured' | 'missing-secret' | 'wrong-secret';
