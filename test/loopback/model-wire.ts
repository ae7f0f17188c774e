/**
 * One model answer in the two wire formats the agent runtime speaks: an OpenAI Chat
 * Completions response and an Anthropic Messages response. Pure (no Node, no Workers API), so
 * the scripted fetch of the Workers tests (test/workers/scripted-model.ts) and the scripted
 * model server over HTTP (model-server.ts) answer byte for byte alike.
 */
export type ModelAnswer =
  | { text: string; inputTokens?: number; outputTokens?: number }
  | { toolCalls: Array<{ name: string; args: unknown }>; inputTokens?: number; outputTokens?: number };

/** `n` numbers the answer within its script: it makes the response and tool-call ids. */
export function chatCompletion(step: ModelAnswer, n: number): unknown {
  const usage = {
    prompt_tokens: step.inputTokens ?? 10,
    completion_tokens: step.outputTokens ?? 5,
    total_tokens: (step.inputTokens ?? 10) + (step.outputTokens ?? 5),
  };
  if ('text' in step)
    return {
      id: `c${n}`,
      object: 'chat.completion',
      created: 0,
      model: 'scripted',
      choices: [{ index: 0, message: { role: 'assistant', content: step.text }, finish_reason: 'stop' }],
      usage,
    };
  return {
    id: `c${n}`,
    object: 'chat.completion',
    created: 0,
    model: 'scripted',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: step.toolCalls.map((call, i) => ({
            id: `call_${n}_${i}`,
            type: 'function',
            function: { name: call.name, arguments: JSON.stringify(call.args) },
          })),
        },
        finish_reason: 'tool_calls',
      },
    ],
    usage,
  };
}

export function anthropicMessage(step: ModelAnswer, n: number): unknown {
  const usage = { input_tokens: step.inputTokens ?? 10, output_tokens: step.outputTokens ?? 5 };
  const content =
    'text' in step
      ? [{ type: 'text', text: step.text }]
      : step.toolCalls.map((call, i) => ({ type: 'tool_use', id: `toolu_${n}_${i}`, name: call.name, input: call.args }));
  return {
    id: `msg_${n}`,
    type: 'message',
    role: 'assistant',
    model: 'scripted',
    content,
    stop_reason: 'text' in step ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage,
  };
}
