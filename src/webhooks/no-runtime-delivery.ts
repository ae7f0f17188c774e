import { recordAudit, type AuditInput } from '../audit';
import type { Env } from '../env';
import type { InboundMessage } from './inbound';
import { sendReply } from './outbound';
import type { ConnectorRecord, DeliverInbound } from './pipeline';

export const NO_RUNTIME_REPLY = 'No agent runtime is configured for this agent yet.';

export interface NoRuntimeDeliveryOptions {
  /** Injected; production passes globalThis.fetch. */
  fetch: typeof fetch;
  clock?: () => number;
  audit?: (env: Env, input: AuditInput, now: number) => Promise<unknown>;
  log?: (line: string) => void;
}

/**
 * The hand-off used until the agent runtime exists: it records that the message arrived
 * (audit `webhook.accepted`, without the text) and answers on the platform that no agent
 * runtime is configured. It works on the connector record the request was verified
 * against (no second lookup); the bot token is opened from the vault only here, on the
 * reply path, never taken from the message.
 */
export function noAgentRuntimeDelivery(options: NoRuntimeDeliveryOptions): DeliverInbound {
  const clock = options.clock ?? Date.now;
  const audit = options.audit ?? ((env: Env, input: AuditInput, now: number) => recordAudit(env, input, now));
  return async function deliverWithoutRuntime(message: InboundMessage, env: Env, record: ConnectorRecord): Promise<void> {
    const base = { platform: message.platform, connectorId: message.connectorId };
    await audit(
      env,
      {
        workspaceId: record.workspaceId,
        kind: 'webhook.accepted',
        actor: 'system',
        data: { ...base, agentId: message.agentId, conversationKey: message.conversationKey },
      },
      clock(),
    );
    const botToken = record.secrets.botToken ?? (await record.openBotToken?.()) ?? undefined;
    const reply = { handle: message.replyHandle, text: NO_RUNTIME_REPLY, ...(botToken ? { botToken } : {}) };
    // The reply goes the way the message came: Discord follow-up, Slack thread or response_url, Telegram chat.
    const result = await sendReply(reply, { fetch: options.fetch, clock, settings: env, ...(options.log ? { log: options.log } : {}) });
    if (!result.ok) {
      await audit(
        env,
        {
          workspaceId: record.workspaceId,
          kind: 'webhook.reply.failed',
          actor: 'system',
          data: { ...base, reason: result.reason, status: result.status },
        },
        clock(),
      );
    }
  };
}
