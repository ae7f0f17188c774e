import { APICallError, generateText, jsonSchema, tool, type LanguageModel, type ModelMessage, type Tool } from 'ai';
import { ModelCallError, type ModelFailure } from './provider';

/** A tool as the model is offered it: declared without `execute`, so the SDK never runs it. */
export interface OfferedTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelToolCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export type ModelStepResult =
  | { ok: true; text: string; toolCalls: ModelToolCall[]; responseMessages: ModelMessage[]; usage: ModelUsage; finishReason: string }
  | { ok: false; failure: ModelFailure; status: number | null };

/**
 * The failure kind hidden in an SDK error: the guarded fetch's or guarded binding's tag
 * anywhere in the cause chain first (it is the gateway's own finding), else the provider's
 * HTTP status.
 */
export function modelFailureOf(error: unknown): { failure: ModelFailure; status: number | null } {
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof ModelCallError) return { failure: e.failure, status: null };
  for (let e: unknown = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (APICallError.isInstance(e)) {
      const inner = modelFailureOf(e.cause);
      if (e.cause && inner.failure !== 'bad-response') return inner;
      const status = e.statusCode ?? null;
      if (status === 401 || status === 403) return { failure: 'auth-refused', status };
      if (status === 429) return { failure: 'rate-limited', status };
      return status === null ? { failure: 'network', status } : { failure: 'http-status', status };
    }
  }
  return { failure: 'bad-response', status: null };
}

/**
 * One model step: the gateway runs the loop itself, so the SDK is asked for exactly one
 * response, with tools declared but never executed (no `execute`): every call the model asks
 * for comes back here and goes through invokeTool. No retries: a retry is the turn's decision.
 */
export async function modelStep(input: {
  model: LanguageModel;
  system?: string;
  messages: ModelMessage[];
  tools: OfferedTool[];
  maxOutputTokens?: number;
  signal: AbortSignal;
}): Promise<ModelStepResult> {
  const tools: Record<string, Tool> = {};
  for (const offered of input.tools) {
    tools[offered.name] = tool({ description: offered.description, inputSchema: jsonSchema(offered.inputSchema as never) });
  }
  try {
    const result = await generateText({
      model: input.model,
      ...(input.system ? { system: input.system } : {}),
      messages: input.messages,
      ...(input.tools.length > 0 ? { tools } : {}),
      ...(input.maxOutputTokens ? { maxOutputTokens: input.maxOutputTokens } : {}),
      maxRetries: 0,
      abortSignal: input.signal,
    });
    return {
      ok: true,
      text: result.text,
      toolCalls: result.toolCalls.map((call) => ({ toolCallId: call.toolCallId, toolName: call.toolName, input: call.input })),
      responseMessages: result.responseMessages as ModelMessage[],
      usage: { inputTokens: result.usage.inputTokens ?? 0, outputTokens: result.usage.outputTokens ?? 0 },
      finishReason: result.finishReason,
    };
  } catch (error) {
    return { ok: false, ...modelFailureOf(error) };
  }
}
