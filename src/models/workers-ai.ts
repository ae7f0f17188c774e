import { MODEL_CALL_TIMEOUT_MS, MODEL_RESPONSE_MAX_BYTES, ModelCallError } from './provider';

/**
 * The part of the `AI` binding (wrangler.toml `[ai]`) the workers-ai provider calls. The
 * platform's type is `Ai`; only `run` is used, which is also what tests hand the runtime.
 */
export interface AiRunner {
  run(model: string, inputs: unknown, options?: { signal?: AbortSignal } & Record<string, unknown>): Promise<unknown>;
}

const UTF8 = new TextEncoder();

/**
 * The binding every workers-ai model gets: the same three guarantees as guardedModelFetch
 * (provider.ts) for HTTP providers. A binding call is not an HTTP response, so:
 * 1. a deadline: the call is raced against the turn's signal and MODEL_CALL_TIMEOUT_MS (a
 *    binding that ignores its signal cannot hold the turn) → `timeout`;
 * 2. a capped read: the answer's JSON is measured; over MODEL_RESPONSE_MAX_BYTES → `too-large`;
 *    a stream (never asked for: one step is one non-streaming call) → `bad-response`;
 * 3. errors: the binding's own error goes on to the provider, which keeps only its Workers AI
 *    code as an HTTP status (3040 → 429 …); the runtime records the tagged kind, never the text.
 */
export function guardedAiBinding(ai: AiRunner, options: { signal: AbortSignal; timeoutMs?: number; maxResponseBytes?: number }): AiRunner {
  const timeoutMs = options.timeoutMs ?? MODEL_CALL_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? MODEL_RESPONSE_MAX_BYTES;
  return {
    async run(model, inputs, runOptions) {
      const signal = AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs), ...(runOptions?.signal ? [runOptions.signal] : [])]);
      if (signal.aborted) throw new ModelCallError('timeout');
      let onAbort: (() => void) | undefined;
      const deadline = new Promise<never>((_, reject) => {
        onAbort = () => reject(new ModelCallError('timeout'));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      let output: unknown;
      try {
        output = await Promise.race([ai.run(model, inputs, { ...runOptions, signal }), deadline]);
      } catch (error) {
        if (error instanceof ModelCallError || signal.aborted)
          throw new ModelCallError(error instanceof ModelCallError ? error.failure : 'timeout');
        throw error;
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
      if (output instanceof ReadableStream) {
        await output.cancel();
        throw new ModelCallError('bad-response');
      }
      let size: number;
      try {
        size = UTF8.encode(JSON.stringify(output) ?? '').byteLength;
      } catch {
        throw new ModelCallError('bad-response');
      }
      if (size > maxBytes) throw new ModelCallError('too-large');
      return output;
    },
  };
}
