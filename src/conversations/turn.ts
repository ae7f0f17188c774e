/**
 * One agent turn: message → model → tool calls (through invokeTool) → model → reply. The
 * gateway runs the loop itself, one model step at a time (docs/agents.md "The loop"):
 * 1. take the conversation's lease (a second message waits for the first turn);
 * 2. check the daily token budget (limits.ts 1);
 * 3. each step: wall time (2) and step count (3), then one model call with the installed
 *    tools declared without `execute`; tokens (4) after it; a failed call ends the turn with
 *    a fixed reply and the tagged reason in the audit log;
 * 4. no tool calls → the text is the reply (vault-redacted), the turn ends;
 * 5. each tool call: tool-call count (5) and wall time (2), then invokeTool with the agent's
 *    caller; a refusal becomes the tool's result; a call that needs approval pauses the turn
 *    (sealed in the conversation) until the approval is decided or expires;
 * 6. usage (tokens, tool calls, steps, run time) is recorded per turn and audited.
 */
import type { ModelMessage } from 'ai';
import { recordAudit } from '../audit';
import type { Clock } from '../auth';
import { createDb, type Database, type TurnOutcome } from '../db';
import type { Env } from '../env';
import { ApiError } from '../http';
import { modelStep, openModelClient, type ModelFailure, type ModelSetupFailure, type ModelToolCall } from '../models';
import { installedToolsOf, invokeTool, type AgentRow, type InstalledToolRow, type StoredResult, type ToolCaller } from '../tools';
import { requireVault, workspaceRedactor } from '../vault';
import { guardsOfAgent } from '../agents';
import { publishEvent } from '../events';
import { classifierFor } from '../guards';
import { INJECTION_BLOCKED_REPLY, TurnGuards } from './guard-points';
import { LIMIT_REPLIES, resolveTurnLimits, TURN_QUEUE_WAIT_MS, type TurnLimits } from './limits';
import { conversationStub, recordUsage, recordWait, tokensUsedOn, touchConversation, utcDay } from './store';
import type { ConversationIdentity, ConversationPort, PausedTurn, StoredMessage, ToolCallSummary, TurnCounters, TurnOrigin } from './types';

export interface RuntimeDeps {
  env: Env;
  now: Clock;
  fetch: typeof fetch;
  requestId: string;
  /** The conversation object itself, when the caller is that object (its alarm); otherwise a stub is used. */
  port?: ConversationPort;
  /** Told each turn.progress as it is published (the REST route's event stream). */
  onProgress?: (progress: Record<string, unknown>) => void;
}

function portOf(deps: RuntimeDeps, conversationId: string): ConversationPort {
  return deps.port ?? conversationStub(deps.env, conversationId);
}

export interface TurnUsage {
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  steps: number;
  durationMs: number;
}

export type TurnResult =
  | { status: 'replied'; conversationId: string; reply: string; outcome: TurnOutcome; toolCalls: ToolCallSummary[]; usage: TurnUsage }
  | { status: 'pending_approval'; conversationId: string; approvalId: string; toolCalls: ToolCallSummary[]; usage: TurnUsage }
  /** The previous turn did not end in time. */
  | { status: 'busy'; conversationId: string }
  /** The conversation waits for an approval; a new message is not taken until it is decided or expires. */
  | { status: 'paused'; conversationId: string; approvalId: string };

const MODEL_FAILED_REPLY: Record<ModelFailure | ModelSetupFailure, string> = {
  timeout: 'The model provider did not answer in time. Please try again.',
  network: 'The model provider could not be reached. Please try again later.',
  'http-status': 'The model provider returned an error. Please try again later.',
  'auth-refused': "The model provider refused this agent's credentials. An operator needs to check the model settings.",
  'rate-limited': 'The model provider is rate limiting this agent. Please try again later.',
  'too-large': 'The model provider sent a response that was too large.',
  redirect: 'The model provider answered with a redirect, which the gateway does not follow.',
  'bad-response': 'The model provider sent a response the gateway could not read.',
  'not-configured': 'This agent has no usable model configuration. An operator needs to check the model settings.',
  'binding-missing':
    'This deployment has no Workers AI binding, so this agent cannot answer. An operator needs to add it or change the model.',
};
const APPROVAL_DENIED_RESULT = 'The operator denied this tool call; it did not run.';
const RESULT_UNKNOWN = 'The operator approved this tool call, but its result is not known (the gateway restarted while it ran).';
export const APPROVAL_EXPIRED_REPLY = 'A tool call waited for approval and the approval expired, so I stopped.';

interface LoopState {
  identity: ConversationIdentity;
  agent: AgentRow;
  origin: TurnOrigin;
  caller: ToolCaller;
  day: string;
  counters: TurnCounters;
  toolCalls: ToolCallSummary[];
  limits: TurnLimits;
  /** When this running part of the turn started (wall time excludes approval waits). */
  segmentStart: number;
  /** The turn has seen untrusted content (guard-points.ts): egress tools are withheld or need approval. */
  tainted: boolean;
  /** Told to the user with the reply (a pasted secret was not sent to the model). */
  notice: string | null;
}

function usageOf(c: TurnCounters): TurnUsage {
  return { inputTokens: c.inputTokens, outputTokens: c.outputTokens, toolCalls: c.toolCalls, steps: c.steps, durationMs: c.elapsedMs };
}

function elapsed(state: LoopState, now: number): number {
  return state.counters.elapsedMs + Math.max(0, now - state.segmentStart);
}

function toolResultMessage(call: ModelToolCall, text: string): StoredMessage {
  return {
    role: 'tool',
    content: [{ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, output: { type: 'text', value: text } }],
  };
}

class Turn {
  readonly #db: Database;
  readonly #stub: ConversationPort;
  #transcript: StoredMessage[];

  constructor(
    readonly deps: RuntimeDeps,
    readonly state: LoopState,
    readonly token: string,
    transcript: StoredMessage[],
    readonly guards: TurnGuards,
  ) {
    this.#db = createDb(deps.env.DB);
    this.#stub = portOf(deps, state.identity.conversationId);
    this.#transcript = transcript;
  }

  /** Live `turn.progress` for the workspace's operators (best effort; counts and names only, never text). */
  async progress(phase: 'model-step' | 'tool-call' | 'paused' | 'ended', extra: { tool?: string; outcome?: string } = {}): Promise<void> {
    const { state, deps } = this;
    const data = {
      agentId: state.agent.id,
      conversationId: state.identity.conversationId,
      phase,
      step: state.counters.steps,
      toolCalls: state.counters.toolCalls,
      ...extra,
    };
    deps.onProgress?.(data);
    await publishEvent(deps.env, { type: 'turn.progress', workspaceId: state.agent.workspaceId, at: deps.now(), data });
  }

  async append(entries: StoredMessage[]): Promise<void> {
    this.#transcript = [...this.#transcript, ...entries];
    await this.#stub.append(this.state.identity, this.token, entries);
  }

  /** Ends the turn: stores the (redacted) reply, records usage and the audit event, frees the lease. */
  async end(outcome: TurnOutcome, text: string): Promise<TurnResult> {
    const { state, deps } = this;
    const at = deps.now();
    state.counters.elapsedMs = elapsed(state, at);
    state.segmentStart = at;
    state.tainted = this.guards.tainted;
    const guarded = await this.guards.reply(text);
    const reply = state.notice ? `${state.notice}\n\n${guarded}` : guarded;
    try {
      await this.append([{ role: 'assistant', content: reply }]);
    } finally {
      await this.#stub.release(this.token);
    }
    // Independent writes (usage, the conversation's time, the audit event, the live view): in flight together.
    await Promise.all([this.#record(outcome, at), this.progress('ended', { outcome })]);
    return {
      status: 'replied',
      conversationId: state.identity.conversationId,
      reply,
      outcome,
      toolCalls: state.toolCalls,
      usage: usageOf(state.counters),
    };
  }

  async #record(outcome: TurnOutcome, at: number): Promise<void> {
    const { state, deps } = this;
    await Promise.all([
      recordUsage(this.#db, state.identity, { day: state.day, counters: state.counters, outcome }, at),
      touchConversation(this.#db, state.identity.conversationId, at),
      recordAudit(
        deps.env,
        {
          workspaceId: state.agent.workspaceId,
          kind: 'agent.turn.finished',
          actor: state.caller.actor,
          data: { agentId: state.agent.id, conversationId: state.identity.conversationId, outcome, ...usageOf(state.counters) },
        },
        at,
      ),
    ]);
  }

  async #pause(
    call: ModelToolCall,
    queued: ModelToolCall[],
    pending: { approvalId: string; invocationId: string; expiresAt: number },
  ): Promise<TurnResult> {
    const { state, deps } = this;
    const at = deps.now();
    state.counters.elapsedMs = elapsed(state, at);
    const paused: PausedTurn = {
      ...pending,
      call,
      queued,
      counters: state.counters,
      toolCalls: state.toolCalls,
      day: state.day,
      origin: state.origin,
      caller: state.caller,
      tainted: this.guards.tainted,
      notice: state.notice,
    };
    await recordWait(this.#db, state.identity, pending.approvalId, at);
    await this.progress('paused', { tool: call.toolName });
    await this.#stub.pause(state.identity, this.token, paused);
    await recordAudit(
      deps.env,
      {
        workspaceId: state.agent.workspaceId,
        kind: 'agent.turn.paused',
        actor: state.caller.actor,
        data: {
          agentId: state.agent.id,
          conversationId: state.identity.conversationId,
          approvalId: pending.approvalId,
          tool: call.toolName,
        },
      },
      at,
    );
    return {
      status: 'pending_approval',
      conversationId: state.identity.conversationId,
      approvalId: pending.approvalId,
      toolCalls: state.toolCalls,
      usage: usageOf(state.counters),
    };
  }

  /** Runs tool calls of one step in order; answers a result when the turn ends or pauses, null to go on. */
  async runCalls(calls: ModelToolCall[], tools: InstalledToolRow[]): Promise<TurnResult | null> {
    const { state, deps } = this;
    for (const [index, call] of calls.entries()) {
      // 5 (limits.ts): tool calls, then 2: wall time. The unanswered calls get a result so the history stays valid.
      const limit =
        state.counters.toolCalls >= state.limits.maxToolCalls
          ? 'limit-tool-calls'
          : elapsed(state, deps.now()) >= state.limits.maxTurnMs
            ? 'limit-wall-time'
            : null;
      if (limit) {
        await this.append(calls.slice(index).map((c) => toolResultMessage(c, 'Not run: the turn reached a limit.')));
        return this.end(limit, LIMIT_REPLIES[limit]);
      }
      state.counters.toolCalls++;
      await this.progress('tool-call', { tool: call.toolName.slice(0, 64) });
      const tool = tools.find((t) => t.name === call.toolName);
      if (!tool) {
        state.toolCalls.push({ tool: call.toolName.slice(0, 64), status: 'unknown-tool', invocationId: null });
        await this.append([toolResultMessage(call, 'Refused: no tool of that name is installed on this agent.')]);
        continue;
      }
      // 3 (guard-points.ts): the exfiltration decision at dispatch.
      const exfiltration = await this.guards.dispatch(tool);
      if (exfiltration === 'withhold') {
        state.toolCalls.push({ tool: tool.name, status: 'withheld', invocationId: null });
        await this.append([toolResultMessage(call, 'Refused: this tool can reach the network and the turn has seen untrusted content.')]);
        continue;
      }
      const dispatched = exfiltration === 'needs-approval' ? { ...tool, approval: 'always' as const } : tool;
      const args = call.input;
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        state.toolCalls.push({ tool: tool.name, status: 'invalid-arguments', invocationId: null });
        await this.append([toolResultMessage(call, 'Refused: the arguments must be a JSON object.')]);
        continue;
      }
      let outcome;
      try {
        outcome = await invokeTool(
          {
            env: deps.env,
            db: this.#db,
            now: deps.now,
            fetch: deps.fetch,
            requestId: deps.requestId,
            openVault: () => requireVault(deps.env, deps.requestId),
          },
          state.caller,
          state.agent,
          dispatched,
          args as Record<string, unknown>,
        );
      } catch (error) {
        // invokeTool's refusals are ApiErrors with fixed, input-free messages: the model may read them.
        if (!(error instanceof ApiError)) throw error;
        state.toolCalls.push({ tool: tool.name, status: `refused:${error.code}`, invocationId: null });
        await this.append([toolResultMessage(call, `Refused (${error.code}): ${error.message}`)]);
        continue;
      }
      if (outcome.status === 'pending_approval') {
        state.toolCalls.push({ tool: tool.name, status: 'pending_approval', invocationId: outcome.invocationId });
        return this.#pause(call, calls.slice(index + 1), outcome);
      }
      state.toolCalls.push({ tool: tool.name, status: outcome.result.status, invocationId: outcome.result.id });
      await this.append([toolResultMessage(call, await this.guards.toolOutput(outcome.result))]);
    }
    return null;
  }

  /** Model steps until a reply, a limit, a failure or a pause. */
  async loop(): Promise<TurnResult> {
    const { state, deps } = this;
    const { agent } = state;
    const model = agent.model;
    if (!model) return this.end('model-failed', MODEL_FAILED_REPLY['not-configured']);
    // Two independent reads (the provider key from the vault, the installed tools) in one round trip's time.
    const [opened, tools] = await Promise.all([openModelClient(deps, agent.workspaceId, model), installedToolsOf(this.#db, agent.id)]);
    if (!opened.ok) return this.#modelFailed(model.provider, opened.failure, null);
    const system = typeof agent.settings.systemPrompt === 'string' ? agent.settings.systemPrompt : undefined;
    const maxOutputTokens = typeof agent.settings.maxOutputTokens === 'number' ? agent.settings.maxOutputTokens : undefined;
    for (;;) {
      // 2 and 3 (limits.ts): wall time, then steps.
      const spent = elapsed(state, deps.now());
      if (spent >= state.limits.maxTurnMs) return this.end('limit-wall-time', LIMIT_REPLIES['limit-wall-time']);
      if (state.counters.steps >= state.limits.maxSteps) return this.end('limit-steps', LIMIT_REPLIES['limit-steps']);
      const signal = AbortSignal.timeout(Math.max(1, state.limits.maxTurnMs - spent));
      const languageModel = opened.client.languageModel(signal);
      state.counters.steps++;
      await this.progress('model-step');
      const step = await modelStep({
        model: languageModel,
        ...(system ? { system } : {}),
        messages: this.#transcript as ModelMessage[],
        tools: await this.guards.offer(tools),
        ...(maxOutputTokens ? { maxOutputTokens } : {}),
        signal,
      });
      if (!step.ok) return this.#modelFailed(model.provider, step.failure, step.status);
      state.counters.inputTokens += step.usage.inputTokens;
      state.counters.outputTokens += step.usage.outputTokens;
      // 4: tokens. What the model said is kept (so the history stays whole) but the turn ends.
      const overTokens = state.counters.inputTokens + state.counters.outputTokens > state.limits.maxTokensPerTurn;
      if (step.toolCalls.length === 0 || overTokens) {
        if (step.toolCalls.length > 0) {
          await this.append(step.responseMessages);
          await this.append(step.toolCalls.map((c) => toolResultMessage(c, 'Not run: the turn reached a limit.')));
        }
        if (overTokens) return this.end('limit-tokens', LIMIT_REPLIES['limit-tokens']);
        return this.end('replied', step.text);
      }
      await this.append(step.responseMessages);
      const stopped = await this.runCalls(step.toolCalls, tools);
      if (stopped) return stopped;
    }
  }

  async #modelFailed(provider: string, failure: ModelFailure | ModelSetupFailure, status: number | null): Promise<TurnResult> {
    const { state, deps } = this;
    await recordAudit(
      deps.env,
      {
        workspaceId: state.agent.workspaceId,
        kind: 'agent.model.failed',
        actor: state.caller.actor,
        data: { agentId: state.agent.id, conversationId: state.identity.conversationId, provider, failure, status },
      },
      deps.now(),
    );
    return this.end('model-failed', MODEL_FAILED_REPLY[failure]);
  }
}

function freshState(
  input: { identity: ConversationIdentity; agent: AgentRow; origin: TurnOrigin; caller: ToolCaller },
  at: number,
): LoopState {
  return {
    ...input,
    day: utcDay(at),
    counters: { steps: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, elapsedMs: 0 },
    toolCalls: [],
    limits: resolveTurnLimits(input.agent.settings),
    segmentStart: at,
    tainted: false,
    notice: null,
  };
}

/** The guards of this turn part: the agent's settings, the workspace redactor, the classifier if configured. */
async function guardsFor(deps: RuntimeDeps, state: LoopState): Promise<TurnGuards> {
  const guards = guardsOfAgent(state.agent);
  const classifier = await classifierFor(deps, state.agent.workspaceId, guards.classifier);
  return new TurnGuards(deps, state.identity, guards, workspaceRedactor(deps.env, state.agent.workspaceId), classifier, state.tainted);
}

/**
 * A new message in a conversation. Precedence before the loop: the lease (busy, or paused on
 * an approval: the message is not taken), then the daily budget; the user text is stored only
 * once the turn has the lease, so a refused message leaves the transcript unchanged.
 */
export async function startTurn(
  deps: RuntimeDeps,
  input: { identity: ConversationIdentity; agent: AgentRow; text: string; origin: TurnOrigin; caller: ToolCaller },
): Promise<TurnResult> {
  const at = deps.now();
  const state = freshState(input, at);
  const stub = portOf(deps, input.identity.conversationId);
  const lease = await stub.acquire(input.identity, TURN_QUEUE_WAIT_MS, state.limits.maxTurnMs);
  if (!lease.ok) {
    return lease.reason === 'busy'
      ? { status: 'busy', conversationId: input.identity.conversationId }
      : { status: 'paused', conversationId: input.identity.conversationId, approvalId: lease.approvalId };
  }
  try {
    const running = { ...state, segmentStart: deps.now() };
    const turn = new Turn(deps, running, lease.token, lease.messages, await guardsFor(deps, running));
    // 1 (guard-points.ts): secrets, then injection; a channel message is untrusted.
    const inbound = await turn.guards.inbound(input.text, input.origin.kind === 'channel');
    if (inbound.blocked) {
      await turn.append([{ role: 'user', content: '[message withheld by the injection guard]' }]);
      return await turn.end('guard-blocked', INJECTION_BLOCKED_REPLY);
    }
    running.notice = inbound.notice;
    // The user text is stored whatever the budget says (as before); the budget is read meanwhile.
    const [used] = await Promise.all([
      tokensUsedOn(createDb(deps.env.DB), input.agent.workspaceId, input.agent.id, state.day),
      turn.append([{ role: 'user', content: inbound.text }]),
    ]);
    // 1 (limits.ts): the daily budget, before any model call.
    if (used >= state.limits.dailyTokenBudget) return await turn.end('limit-daily-budget', LIMIT_REPLIES['limit-daily-budget']);
    return await turn.loop();
  } catch (error) {
    await stub.release(lease.token);
    throw error;
  }
}

/**
 * A paused turn's approval was decided: its tool result (ran, or denied) goes to the model and
 * the loop goes on; an expired approval ends the turn. Null when no turn waits on it any more.
 */
export async function resumeTurn(
  deps: RuntimeDeps,
  input: {
    identity: ConversationIdentity;
    agent: AgentRow;
    approvalId: string;
    decision: 'approved' | 'denied';
    result: StoredResult | null;
  },
): Promise<{ result: TurnResult; origin: TurnOrigin } | null> {
  const resumed = await resumePaused(deps, input, input.decision === 'denied' ? 'denied' : (input.result?.status ?? 'unknown'));
  if (!resumed) return null;
  const { stub, paused, turn } = resumed;
  try {
    const text =
      input.decision === 'denied' ? APPROVAL_DENIED_RESULT : input.result ? await turn.guards.toolOutput(input.result) : RESULT_UNKNOWN;
    await turn.append([toolResultMessage(paused.call, text)]);
    const tools = await installedToolsOf(createDb(deps.env.DB), input.agent.id);
    const stopped = await turn.runCalls(paused.queued, tools);
    return { result: stopped ?? (await turn.loop()), origin: paused.origin };
  } catch (error) {
    await stub.release(turn.token);
    throw error;
  }
}

/**
 * Takes the lease of a conversation whose paused turn waits on `approvalId` and rebuilds the
 * turn, the paused call marked `status`. Null when no turn waits on it any more.
 */
async function resumePaused(
  deps: RuntimeDeps,
  input: { identity: ConversationIdentity; agent: AgentRow; approvalId: string },
  status: string,
) {
  const stub = portOf(deps, input.identity.conversationId);
  const limits = resolveTurnLimits(input.agent.settings);
  const resumed = await stub.resume(input.identity, input.approvalId, TURN_QUEUE_WAIT_MS, limits.maxTurnMs);
  if (!resumed.ok) return null;
  const { paused } = resumed;
  const state: LoopState = {
    identity: input.identity,
    agent: input.agent,
    origin: paused.origin,
    caller: paused.caller,
    day: paused.day,
    counters: paused.counters,
    toolCalls: paused.toolCalls.map((c) => (c.invocationId === paused.invocationId ? { ...c, status } : c)),
    limits,
    segmentStart: deps.now(),
    tainted: paused.tainted,
    notice: paused.notice,
  };
  const turn = new Turn(deps, state, resumed.token, resumed.messages, await guardsFor(deps, state));
  return { stub, paused, turn };
}

/** The approval a paused turn waited on expired: the turn ends with a reply that says so. Null when no turn waits on it. */
export async function endExpiredTurn(
  deps: RuntimeDeps,
  input: { identity: ConversationIdentity; agent: AgentRow; approvalId: string },
): Promise<{ result: TurnResult; origin: TurnOrigin } | null> {
  const resumed = await resumePaused(deps, input, 'expired');
  if (!resumed) return null;
  const { stub, paused, turn } = resumed;
  try {
    await turn.append([paused.call, ...paused.queued].map((c) => toolResultMessage(c, 'Not run: the approval expired.')));
    return { result: await turn.end('approval-expired', APPROVAL_EXPIRED_REPLY), origin: paused.origin };
  } catch (error) {
    await stub.release(turn.token);
    throw error;
  }
}
