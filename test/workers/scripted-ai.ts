/**
 * A scripted `AI` binding for the workers-ai provider tests. The `AI` binding is the
 * platform's boundary (wrangler.toml `[ai]`; the runtime only calls `env.AI.run`), and it has
 * no local simulator, so tests hand the app an object of the same shape: the real
 * workers-ai-provider builds the real `run(model, inputs, options)` call and parses what this
 * returns, in the binding's own output format (`response`, `tool_calls`, `usage`). Each call
 * takes the next step of the script and is recorded, so a test can check what reached the
 * model without timing.
 */
export type AiStep =
  | { text: string; inputTokens?: number; outputTokens?: number }
  | { toolCalls: Array<{ name: string; args: unknown }>; inputTokens?: number; outputTokens?: number }
  /** The binding throws, as it does with `<code>: <message>` errors (3040: capacity …). */
  | { throws: string }
  /** Never settles and ignores its signal: only the gateway's own deadline can end it. */
  | { hang: true }
  /** Any output, as the binding returned it. */
  | { output: unknown };

export interface RecordedAiCall {
  model: string;
  inputs: { messages?: Array<{ role: string; content: unknown }>; tools?: unknown[]; max_tokens?: number };
  hadSignal: boolean;
}

export function scriptedAi(script: AiStep[]) {
  const calls: RecordedAiCall[] = [];
  let next = 0;
  const binding = {
    async run(model: string, inputs: unknown, options?: { signal?: AbortSignal }): Promise<unknown> {
      calls.push({ model, inputs: structuredClone(inputs) as RecordedAiCall['inputs'], hadSignal: options?.signal instanceof AbortSignal });
      const step = script[next++];
      if (!step) throw new Error('5000: script exhausted');
      if ('throws' in step) throw new Error(step.throws);
      if ('hang' in step) return new Promise(() => {});
      if ('output' in step) return step.output;
      const usage = { prompt_tokens: step.inputTokens ?? 10, completion_tokens: step.outputTokens ?? 5 };
      if ('text' in step) return { response: step.text, usage, finish_reason: 'stop' };
      return {
        response: null,
        tool_calls: step.toolCalls.map((call, i) => ({ id: `ai_call_${next}_${i}`, name: call.name, arguments: call.args })),
        usage,
        finish_reason: 'tool_calls',
      };
    },
  };
  return { calls, binding, remaining: () => script.length - next };
}
