/** The one definition is src/audit/reject-reasons.ts (the audit events carry them); re-exported for the verifiers. */
export type { DiscordRejectReason, SlackRejectReason, TelegramRejectReason } from '../audit';
