import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { createWorkersAI } from 'workers-ai-provider';
import { ANTHROPIC_DEFAULT_BASE_URL, type ModelSettings } from './settings';
import type { AiRunner } from './workers-ai';

/** Every model call gives up after this long (one step; the turn has its own wall-time limit). */
export const MODEL_CALL_TIMEOUT_MS = 60_000;
/** A model response is read up to this many bytes; past that the call fails as `too-large`. */
export const MODEL_RESPONSE_MAX_BYTES = 4 * 1024 * 1024;

/** Why a model call failed: the audit log gets this, the user a fixed sentence. Never the provider's text. */
export type ModelFailure =
  'timeout' | 'network' | 'http-status' | 'auth-refused' | 'rate-limited' | 'too-large' | 'redirect' | 'bad-response';

/** Thrown by the guarded fetch so the failure kind survives the SDK's error wrapping. */
export class ModelCallError extends Error {
  constructor(readonly failure: ModelFailure) {
    super(`model call failed: ${failure}`);
    this.name = 'ModelCallError';
  }
}

/** A body that errors once more than `maxBytes` have passed (Content-Length may lie, so bytes are counted). */
function cappedBody(body: ReadableStream<Uint8Array>, maxBytes: number): ReadableStream<Uint8Array> {
  let total = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.byteLength;
        if (total > maxBytes) controller.error(new ModelCallError('too-large'));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * The fetch every provider gets: a deadline, no redirects (a 3xx could point anywhere,
 * private addresses included), and a capped read. Network errors become tagged failures
 * whose message carries nothing of the request (no URL, no header, no key).
 */
export function guardedModelFetch(
  base: typeof fetch,
  options: { signal: AbortSignal; timeoutMs?: number; maxResponseBytes?: number },
): typeof fetch {
  const timeoutMs = options.timeoutMs ?? MODEL_CALL_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? MODEL_RESPONSE_MAX_BYTES;
  return async function modelFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs), ...(init?.signal ? [init.signal] : [])]);
    let response: Response;
    try {
      response = await base(input, { ...init, signal, redirect: 'manual' });
    } catch (error) {
      throw new ModelCallError(signal.aborted ? 'timeout' : error instanceof ModelCallError ? error.failure : 'network');
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new ModelCallError('redirect');
    }
    const declared = Number(response.headers.get('Content-Length') ?? '0');
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw new ModelCallError('too-large');
    }
    if (!response.body) return response;
    return new Response(cappedBody(response.body, maxBytes), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  } as typeof fetch;
}

/**
 * The SDK model for these settings. `baseUrl` has been checked (checkModelBaseUrl) by the
 * caller; `ai` is the guarded `AI` binding (guardedAiBinding), required for workers-ai.
 */
export function languageModelFor(
  settings: ModelSettings,
  deps: { fetch: typeof fetch; apiKey: string | null; baseUrl: string | null; ai?: AiRunner | null },
): LanguageModel {
  switch (settings.provider) {
    case 'openai-compatible':
      return createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: deps.baseUrl ?? '',
        ...(deps.apiKey ? { apiKey: deps.apiKey } : {}),
        includeUsage: true,
        fetch: deps.fetch,
      }).chatModel(settings.model);
    case 'anthropic':
      return createAnthropic({
        baseURL: deps.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL,
        apiKey: deps.apiKey ?? '',
        fetch: deps.fetch,
      })(settings.model);
    case 'workers-ai':
      if (!deps.ai) throw new ModelCallError('bad-response');
      // The provider only calls `run`; the platform's `Ai` type is wider than what it needs.
      return createWorkersAI({ binding: deps.ai as unknown as Ai })(settings.model);
  }
}
