import { agentInWorkspace } from '../agents';
import { recordAudit } from '../audit';
import type { Clock } from '../auth';
import { createDb } from '../db';
import type { DeliverInbound } from '../webhooks';
import { BUSY_REPLY, replyOnChannel } from './channel-reply';
import { channelConversation, conversationStub, identityOf } from './store';

/**
 * The webhook hand-off (src/webhooks/pipeline.ts step 6, after the platform has its
 * acknowledgement). An agent without a model keeps `fallback` (the "no agent runtime
 * configured" reply). Otherwise the message goes to its channel's conversation in ONE call to
 * the Conversation object, which queues it (sealed, in its SQLite storage) and returns at once;
 * the object runs the turn from its alarm and posts the reply (conversation-object.ts), so a
 * slow model or many tool steps are not cut by the webhook request's ~30 s `waitUntil`.
 * Only the record's non-secret fields travel (platform, connector id, reply handle); the bot
 * token is opened from the vault inside the object when the reply is sent. A full queue is
 * answered "busy" from here, with the record the request was verified against.
 */
export function conversationDelivery(deps: { now: Clock; fetch: typeof fetch; fallback: DeliverInbound }): DeliverInbound {
  return async function deliverToConversation(message, env, record) {
    const db = createDb(env.DB);
    // The looked-up record already says whether the agent has a model (no D1 read per event).
    const hasModel = record.agentHasModel ?? Boolean((await agentInWorkspace(db, record.workspaceId, record.agentId))?.model);
    if (!hasModel) return deps.fallback(message, env, record);
    const at = deps.now();
    await recordAudit(
      env,
      {
        workspaceId: record.workspaceId,
        kind: 'webhook.accepted',
        actor: 'system',
        data: {
          platform: message.platform,
          connectorId: message.connectorId,
          agentId: record.agentId,
          conversationKey: message.conversationKey,
        },
      },
      at,
    );
    const conversation = await channelConversation(db, record.workspaceId, record.agentId, message.conversationKey, at);
    const origin = {
      kind: 'channel' as const,
      platform: message.platform,
      connectorId: message.connectorId,
      replyHandle: message.replyHandle,
    };
    const queued = await conversationStub(env, conversation.id).enqueueChannelTurn(identityOf(conversation), {
      text: message.text,
      origin,
      senderId: message.sender.id,
      receivedAt: at,
    });
    if (!queued) {
      const runtime = { env, now: deps.now, fetch: deps.fetch, requestId: `hook-${conversation.id}-${at}` };
      await replyOnChannel(runtime, record.workspaceId, origin, BUSY_REPLY, record);
    }
  };
}
