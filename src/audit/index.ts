export { AuditLog } from './audit-log-object';
export { advanceChain, eventHash, GENESIS_HASH, newChainCursor, type ChainProblem } from './chain';
export {
  INSTANCE_CHAIN,
  type AuditEvent,
  type AuditEventMap,
  type AuditInput,
  type AuditKind,
  type WebhookPlatform,
  type WebhookRejectReason,
} from './events';
export { boundEventData, MAX_FIELD_BYTES, MAX_LINE_BYTES, TRUNCATION_MARKER } from './limits';
export { recordAudit, verifyAuditChain, type AuditBindings, type ChainVerdict } from './record';
export type { DiscordRejectReason, SlackRejectReason, TelegramRejectReason } from './reject-reasons';
export { checkAuditChain, exportAuditEvents, listAuditEvents, PAGE_MAX, type AuditFilter, type AuditReader } from './reading';
