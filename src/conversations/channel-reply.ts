import { recordAudit } from '../audit';
import { lookupConnector } from '../connectors';
import { sendReply, type ConnectorRecord } from '../webhooks';
import type { RuntimeDeps } from './turn';
import type { TurnOrigin } from './types';

export const WAITING_FOR_APPROVAL_REPLY =
  'Waiting for approval: a tool call needs an operator to approve it. I will answer once it is decided.';
export const BUSY_REPLY = 'I am still working on the previous message in this conversation. Please try again in a moment.';
export const PAUSED_REPLY =
  'This conversation is waiting for an operator to approve a tool call; new messages are taken once it is decided.';

/**
 * Posts a reply on the channel a turn came from. The bot token comes from the connector
 * record the webhook was verified against when there is one (no second lookup on the hot
 * path); a resumed or expired turn, which has no request of its own, looks the connector up.
 */
export async function replyOnChannel(
  deps: RuntimeDeps,
  workspaceId: string,
  origin: Extract<TurnOrigin, { kind: 'channel' }>,
  text: string,
  record?: ConnectorRecord,
): Promise<void> {
  let connector = record;
  connector ??= (await lookupConnector(deps.env, origin.platform, origin.connectorId)) ?? undefined;
  // A connector deleted meanwhile gets no reply (its tokens are gone with it).
  if (!connector || connector.workspaceId !== workspaceId) return;
  const botToken = connector.secrets.botToken ?? (await connector.openBotToken?.()) ?? undefined;
  const result = await sendReply(
    { handle: origin.replyHandle, text, ...(botToken ? { botToken } : {}) },
    { fetch: deps.fetch, clock: deps.now, settings: deps.env },
  );
  if (!result.ok) {
    await recordAudit(
      deps.env,
      {
        workspaceId,
        kind: 'webhook.reply.failed',
        actor: 'system',
        data: { platform: origin.platform, connectorId: origin.connectorId, reason: result.reason, status: result.status },
      },
      deps.now(),
    );
  }
}
