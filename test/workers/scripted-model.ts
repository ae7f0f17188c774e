/**
 * A scripted model provider for the agent runtime tests. It answers the two wire formats the
 * runtime speaks — OpenAI Chat Completions (`POST <base>/chat/completions`) and Anthropic
 * Messages (`POST <base>/messages`) — as a fetch handler behind the app's injected fetch, so
 * the real SDK providers build real HTTP requests and parse real HTTP responses. Each request
 * takes the next step of the script; every request is recorded (headers and JSON body) so a
 * test can check what reached the model (tool output, the key header) without timing.
 * Requests for the runner go to `runner` (tools-support.ts stubRunner); anything else is 599.
 * The response bodies are test/loopback/model-wire.ts's, shared with the scripted model server
 * the end-to-end tests reach over HTTP (agent-runtime-e2e.test.ts).
 */
import { anthropicMessage, chatCompletion, type ModelAnswer } from '../loopback/model-wire';

export const MODEL_BASE = 'https://model.test/v1';
export const ANTHROPIC_BASE = 'https://anthropic.test/v1';

export type ScriptStep = ModelAnswer | { status: number; body?: string } | { hang: true } | { redirect: string } | { oversized: true };

export interface RecordedModelRequest {
  url: string;
  headers: Record<string, string>;
  body: { messages?: unknown[]; tools?: unknown[]; system?: unknown; model?: string };
}

export function scriptedModel(script: ScriptStep[], runner?: typeof fetch) {
  const requests: RecordedModelRequest[] = [];
  let next = 0;
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const anthropic = `${url.origin}/v1/messages` === `${ANTHROPIC_BASE}/messages` && url.pathname === '/v1/messages';
    const chat = url.origin === new URL(MODEL_BASE).origin && url.pathname === '/v1/chat/completions';
    if (!anthropic && !chat) return runner ? runner(request) : new Response('no internet in tests', { status: 599 });
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => (headers[key] = value));
    requests.push({ url: request.url, headers, body: (await request.json()) as RecordedModelRequest['body'] });
    const step = script[next++];
    if (!step) return Response.json({ error: { message: 'script exhausted' } }, { status: 500 });
    if ('status' in step)
      return new Response(step.body ?? '{"error":{"message":"scripted failure"}}', {
        status: step.status,
        headers: { 'Content-Type': 'application/json' },
      });
    if ('hang' in step)
      return new Promise<Response>((_, reject) => {
        const signal = request.signal;
        signal.addEventListener('abort', () => reject(signal.reason as Error));
      });
    if ('redirect' in step) return new Response(null, { status: 302, headers: { Location: step.redirect } });
    if ('oversized' in step)
      return new Response('x'.repeat(5 * 1024 * 1024), { status: 200, headers: { 'Content-Type': 'application/json' } });
    return Response.json(anthropic ? anthropicMessage(step, next) : chatCompletion(step, next));
  };
  return { requests, fetch: fetchFn as typeof fetch, remaining: () => script.length - next };
}

/**
 * `inner` with a gate in front of the model (MODEL_BASE): once armed, a model call waits until
 * the test opens the gate — a model as slow as the test wants, without timers. `arrived`
 * resolves when the first call waits there. Armed from the start unless `armed: false`.
 */
export function gatedModelFetch(inner: typeof fetch, options: { armed?: boolean } = {}) {
  let armed = options.armed ?? true;
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (armed && request.url.startsWith(MODEL_BASE)) {
      arrive();
      await opened;
    }
    return inner(request);
  }) as typeof fetch;
  return { fetch: fetchFn, arrived, open: () => open(), arm: () => (armed = true) };
}
