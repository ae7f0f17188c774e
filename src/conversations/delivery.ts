import { agentInWorkspace } from '../agents';
import { recordAudit } from '../audit';
import type { Clock } from '../auth';
import { createDb } from '../db';
import type { DeliverInbound } from '../webhooks';
import { BUSY_REPLY, PAUSED_REPLY, replyOnChannel, WAITING_FOR_APPROVAL_REPLY } from './channel-reply';
import { agentActor } from './conversations';
import { channelConversation, identityOf } from './store';
import { startTurn, type RuntimeDeps } from './turn';

/**
 * The webhook hand-off (src/webhooks/pipeline.ts step 6, after the platform has its
 * acknowledgement): the message goes to its channel's conversation with the connector record
 * the request was verified against (no second lookup), the turn runs, and the reply is posted
 * with sendReply. An agent without a model keeps `fallback` (the "no agent runtime configured"
 * reply). Tool calls act as `agent:<id>`; the approval's requester is the channel sender via
 * the connector (`channel:<platform>:<sender>` / `connector:<id>`), never a gateway user, so a
 * signed-in operator can decide it and nobody on the channel can.
 */
export function conversationDelivery(deps: { now: Clock; fetch: typeof fetch; fallback: DeliverInbound }): DeliverInbound {
  return async function deliverToConversation(message, env, record) {
    const db = createDb(env.DB);
    const agent = await agentInWorkspace(db, record.workspaceId, record.agentId);
    if (!agent?.model) return deps.fallback(message, env, record);
    const at = deps.now();
    await recordAudit(
      env,
      {
        workspaceId: record.workspaceId,
        kind: 'webhook.accepted',
        actor: 'system',
        data: { platform: message.platform, connectorId: message.connectorId, agentId: agent.id, conversationKey: message.conversationKey },
      },
      at,
    );
    const conversation = await channelConversation(db, record.workspaceId, agent.id, message.conversationKey, at);
    const runtime: RuntimeDeps = { env, now: deps.now, fetch: deps.fetch, requestId: `hook-${conversation.id}-${at}` };
    const origin = {
      kind: 'channel' as const,
      platform: message.platform,
      connectorId: message.connectorId,
      replyHandle: message.replyHandle,
    };
    const caller = {
      actor: agentActor(agent.id),
      requester: {
        requestedByUserId: `channel:${message.platform}:${message.sender.id}`,
        requestedByCredentialId: `connector:${message.connectorId}`,
      },
    };
    const result = await startTurn(runtime, { identity: identityOf(conversation), agent, text: message.text, origin, caller });
    const text =
      result.status === 'replied'
        ? result.reply
        : result.status === 'pending_approval'
          ? WAITING_FOR_APPROVAL_REPLY
          : result.status === 'busy'
            ? BUSY_REPLY
            : PAUSED_REPLY;
    await replyOnChannel(runtime, record.workspaceId, origin, text, record);
  };
}
