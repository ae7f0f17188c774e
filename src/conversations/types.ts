import type { ModelMessage } from 'ai';
import type { ModelToolCall } from '../models';
import type { ToolCaller } from '../tools';
import type { ReplyHandle, Platform } from '../webhooks';

/** Which conversation an object holds: fixed by its first caller (conversation-object.ts). */
export interface ConversationIdentity {
  workspaceId: string;
  agentId: string;
  conversationId: string;
}

/** One transcript entry: a model message as the SDK speaks it (user text, assistant text and tool calls, tool results). */
export type StoredMessage = ModelMessage;

/** Where a turn came from, and so where its reply goes. The reply handle is kept sealed while a turn is paused. */
export type TurnOrigin = { kind: 'rest' } | { kind: 'channel'; platform: Platform; connectorId: string; replyHandle: ReplyHandle };

/** A channel message its conversation object has taken, waiting for its turn (sealed in the queue, channel-queue.ts). */
export interface ChannelJob {
  text: string;
  origin: Extract<TurnOrigin, { kind: 'channel' }>;
  /** The platform's id of the sender: the approval's requester is `channel:<platform>:<id>`. */
  senderId: string;
  receivedAt: number;
}

/** Counters a turn carries across a pause: the limits apply to the whole turn. */
export interface TurnCounters {
  steps: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** Wall time spent running (model and tools), not waiting for an approval. */
  elapsedMs: number;
}

/** What one tool call of the turn did, for the REST answer (never its output). */
export interface ToolCallSummary {
  tool: string;
  status: string;
  invocationId: string | null;
}

/** A turn waiting for an approval, sealed in the conversation's storage until it is decided or expires. */
export interface PausedTurn {
  approvalId: string;
  invocationId: string;
  expiresAt: number;
  call: ModelToolCall;
  /** Calls the model asked for in the same step, after the paused one: run on resume. */
  queued: ModelToolCall[];
  counters: TurnCounters;
  toolCalls: ToolCallSummary[];
  /** UTC day the turn started (its usage is attributed to it). */
  day: string;
  origin: TurnOrigin;
  caller: ToolCaller;
  /** The turn had seen untrusted content before it paused. */
  tainted: boolean;
  notice: string | null;
}

/** What the turn needs of its conversation object: the Durable Object's own methods (a stub, or the object itself in its alarm). */
export interface ConversationPort {
  acquire(
    identity: ConversationIdentity,
    waitMs: number,
    leaseMs: number,
  ): Promise<
    | { ok: true; token: string; messages: StoredMessage[] }
    | { ok: false; reason: 'busy' }
    | { ok: false; reason: 'paused'; approvalId: string; expiresAt: number }
  >;
  resume(
    identity: ConversationIdentity,
    approvalId: string,
    waitMs: number,
    leaseMs: number,
  ): Promise<{ ok: true; token: string; messages: StoredMessage[]; paused: PausedTurn } | { ok: false }>;
  append(identity: ConversationIdentity, token: string, entries: StoredMessage[]): Promise<void>;
  pause(identity: ConversationIdentity, token: string, paused: PausedTurn): Promise<void>;
  release(token: string): void | Promise<void>;
}

/** The conversation object as the Worker calls it (typed here: the RPC stub's own types are too deep for the SDK's message types). */
export interface ConversationRpc extends ConversationPort {
  transcript(identity: ConversationIdentity): Promise<{
    messages: StoredMessage[];
    paused: { approvalId: string; expiresAt: number } | null;
    status: 'idle' | 'pending_approval' | 'running';
  }>;
  /** An approval was decided: the object's paused turn, if it waits on it, resumes from the object's alarm. */
  wake(identity: ConversationIdentity, approvalId: string): Promise<boolean>;
  forget(): Promise<void>;
  /** Vault rotation: re-seals the object's sealed rows under `activeKeyId` (rotation.ts). */
  rotateSealed(identity: ConversationIdentity, activeKeyId: string): Promise<{ resealed: number; unreadable: number; remaining: number }>;
  /** Takes a channel message for a turn run inside the object; false when its queue is full. */
  enqueueChannelTurn(identity: ConversationIdentity, job: ChannelJob): Promise<boolean>;
}
