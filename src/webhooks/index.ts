/** Channel webhooks: verification, payload parsing, de-duplication, routes and replies. */
export { DEDUPE_MAX_KEYS, DEDUPE_WINDOW_MS, markSeen, WebhookDedupe, type DedupeBindings, type DedupeVerdict } from './dedupe-object';
export { DiscordCallbackType, DiscordInteractionType, parseDiscordInteraction, type DiscordParsed } from './discord-payload';
export {
  defaultEd25519Backend,
  ED25519_L,
  isAcceptableEd25519PublicKey,
  isCanonicalScalar,
  nobleEd25519,
  verifyDiscordSignature,
  verifyEd25519Strict,
  webCryptoEd25519,
  type DiscordSignatureInput,
  type DiscordVerdict,
  type Ed25519Backend,
  type StrictEd25519Verdict,
} from './discord-signature';
export { MAX_INBOUND_TEXT_CHARS, PLATFORMS, type InboundMessage, type InboundTarget, type Platform, type ReplyHandle } from './inbound';
export {
  MAX_OUTBOUND_RESPONSE_BYTES,
  OUTBOUND_TIMEOUT_MS,
  readCapped,
  scrubOutboundText,
  sendReply,
  type Reply,
  type ReplyDeps,
  type ReplyFailure,
  type ReplyResult,
} from './outbound';
export {
  DISCORD_INTERACTION_TOKEN_LIFE_MS,
  escapeSlackText,
  EXPIRY_MARGIN_MS,
  MAX_REPLY_CHARS,
  MAX_REPLY_MESSAGES,
  SLACK_RESPONSE_URL_LIFE_MS,
  SLACK_RESPONSE_URL_MAX_USES,
} from './replies/requests';
export {
  checkSlackResponseUrl,
  DEFAULT_TELEGRAM_API_BASE_URL,
  SLACK_RESPONSE_URL_HOST,
  telegramApiBaseUrl,
  type Destination,
  type DestinationRefusal,
  type TelegramApiSettings,
} from './replies/destinations';
export { splitReplyText, TRUNCATION_NOTICE, type SplitOptions } from './replies/split';
export { parseSlackForm, type SlackFormParsed } from './slack-command';
export {
  webhookRoutes,
  type ConnectorLookup,
  type ConnectorRecord,
  type DeliverInbound,
  type Outcome,
  parseJsonBody,
  type PlatformAdapter,
  type Verdict,
  type WebhookRouteOptions,
} from './routes';
export { discordAdapter, PLATFORM_ADAPTERS, slackAdapter, telegramAdapter } from './adapters';
export { parseSlackEvent, type SlackParsed } from './slack-payload';
export { slackV0Mac, verifySlackSignature, type SlackSignatureInput, type SlackVerdict } from './slack-signature';
export { parseTelegramUpdate, type TelegramParsed } from './telegram-payload';
export { TELEGRAM_SECRET_TOKEN, verifyTelegramSecret, type TelegramVerdict } from './telegram-secret';
export { REPLAY_WINDOW_S } from './timestamps';
export { NO_RUNTIME_REPLY, noAgentRuntimeDelivery, type NoRuntimeDeliveryOptions } from './no-runtime-delivery';
export type { DiscordRejectReason, SlackRejectReason, TelegramRejectReason } from './reject-reasons';
export {
  cachedConnector,
  ConnectorRecordCache,
  forgetConnector,
  RECORD_CACHE_TTL_MS,
  ISOLATE_RECORD_TTL_MS,
  ISOLATE_RECORDS_MAX,
  isolateRecords,
  type RecordSource,
  type RecordCacheBindings,
} from './connector-cache-object';
export { CONNECTOR_SECRET_NAMES, readConnector, VERIFICATION_SECRET, type FetchedConnector } from './connector-read';
