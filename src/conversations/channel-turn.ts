import { agentInWorkspace } from '../agents';
import { createDb } from '../db';
import type { ToolCaller } from '../tools';
import { BUSY_REPLY, PAUSED_REPLY, replyOnChannel, WAITING_FOR_APPROVAL_REPLY } from './channel-reply';
import { agentActor } from './conversations';
import { startTurn, type RuntimeDeps, type TurnResult } from './turn';
import type { ChannelJob, ConversationIdentity } from './types';

export const INTERRUPTED_REPLY =
  'I was interrupted while answering your previous message (the gateway restarted). Please send it again if you still need an answer.';

/**
 * Tool calls act as `agent:<id>`; the approval's requester is the channel sender via the
 * connector (`channel:<platform>:<sender>` / `connector:<id>`), never a gateway user, so a
 * signed-in operator can decide it and nobody on the channel can.
 */
function channelCaller(identity: ConversationIdentity, job: ChannelJob): ToolCaller {
  return {
    actor: agentActor(identity.agentId),
    requester: {
      requestedByUserId: `channel:${job.origin.platform}:${job.senderId}`,
      requestedByCredentialId: `connector:${job.origin.connectorId}`,
    },
  };
}

function replyTextOf(result: TurnResult): string {
  if (result.status === 'replied') return result.reply;
  if (result.status === 'pending_approval') return WAITING_FOR_APPROVAL_REPLY;
  return result.status === 'busy' ? BUSY_REPLY : PAUSED_REPLY;
}

/**
 * One queued channel message, run by its Conversation object (conversation-object.ts): the
 * turn (turn.ts, the object itself as its port), then the reply on the channel. The bot token
 * is opened from the vault by replyOnChannel when the reply is sent; it never sits in the queue.
 * An agent deleted, or left without a model, since the message was taken gets no turn.
 */
export async function runChannelTurn(runtime: RuntimeDeps, identity: ConversationIdentity, job: ChannelJob): Promise<void> {
  const agent = await agentInWorkspace(createDb(runtime.env.DB), identity.workspaceId, identity.agentId);
  if (!agent?.model) return;
  const result = await startTurn(runtime, { identity, agent, text: job.text, origin: job.origin, caller: channelCaller(identity, job) });
  await replyOnChannel(runtime, identity.workspaceId, job.origin, replyTextOf(result));
}

/** A turn cut by an eviction or restart is not run again (its tool calls may have run): the sender is told instead. */
export async function reportInterruptedTurn(runtime: RuntimeDeps, identity: ConversationIdentity, job: ChannelJob): Promise<void> {
  await replyOnChannel(runtime, identity.workspaceId, job.origin, INTERRUPTED_REPLY);
}
