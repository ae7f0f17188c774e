import { recordAudit, type AuditInput } from '../audit';
import type { Env } from '../env';
import type { InboundMessage } from './inbound';
import { sendReply } from './outbound';
import type { ConnectorLookup, DeliverInbound } from './routes';

export const NO_RUNTIME_REPLY = 'No agent runtime is configured for this agent yet.';

export interface NoRuntimeDeliveryOptions {
  lookup: ConnectorLookup;
  /** Injected; production passes globalThis.fetch. */
  fetch: typeof fetch;
  clock?: () => number;
  audit?: (env: Env, input: AuditInput, now: number) => Promise<unknown>;
  log?: (line: string) => void;
}

/**
 * The hand-off used until the agent runtime exists: it records that the message arrived
 * (audit `webhook.accepted`, without the text) and answers on the platform that no agent
 * runtime is configured. The bot token comes from the connector lookup (the vault), never
 * from the message.
 */
export function noAgentRuntimeDelivery(options: NoRuntimeDeliveryOptions): DeliverInbound {
  const clock = options.clock ?? Date.now;
  const audit = options.audit ?? ((env: Env, input: AuditInput, now: number) => recordAudit(env, input, now));
  return async function deliverWithoutRuntime(message: InboundMessage, env: Env): Promise<void> {
    const record = await options.lookup(env, message.platform, message.connectorId);
    if (!record) return; // deleted between the acknowledgement and now
    const base = { platform: message.platform, connectorId: message.connectorId };
    await audit(
      env,
      { workspaceId: record.workspaceId, kind: 'webhook.accepted', actor: 'system', data: { ...base, agentId: message.agentId, conversationKey: message.conversationKey } },
      clock(),
    );
    const reply = { handle: message.replyHandle, text: NO_RUNTIME_REPLY, ...(record.secrets.botToken ? { botToken: record.secrets.botToken } : {}) };
    const result = await sendReply(reply, { fetch: options.fetch, ...(options.log ? { log: options.log } : {}) });
    if (!result.ok) {
      await audit(env, { workspaceId: record.workspaceId, kind: 'webhook.reply.failed', actor: 'system', data: { ...base, reason: result.reason, status: result.status } }, clock());
    }
  };
}
