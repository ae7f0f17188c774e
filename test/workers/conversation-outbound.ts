/**
 * What the Conversation objects' own turns (channel turns, run from their alarm) run with in
 * the Workers tests: the same scripted fetch (model provider, platform APIs, the stub runner)
 * and extra bindings (executor configuration) a test gives its app. test/workers/main.ts's
 * Conversation reads them; the object runs in the tests' isolate, so one module holds them
 * for both. Unset: the real fetch and bindings, as in production (there is no internet here,
 * so a test that forgets fails visibly).
 */
export interface ScriptedOutbound {
  fetch: typeof fetch;
  bindings?: Record<string, unknown>;
}

let scripted: ScriptedOutbound | null = null;

export function scriptConversationOutbound(outbound: ScriptedOutbound | null): void {
  scripted = outbound;
}

export function scriptedConversationOutbound(): ScriptedOutbound | null {
  return scripted;
}
