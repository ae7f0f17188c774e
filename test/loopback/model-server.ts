/**
 * A model provider over real HTTP on 127.0.0.1, for the tests that run the gateway against
 * real sockets: the browser run (test/browser/, against `npm run dev`) and the Workers
 * end-to-end tests (test/workers/agent-runtime-e2e.test.ts, started by workers-global-setup.ts).
 * The gateway may call it only because those runs list it in MODEL_PRIVATE_HOSTS
 * (docs/agents.md "Models").
 *
 *   POST /v1/chat/completions              one fixed Chat Completions reply with fixed token
 *                                          counts (the browser run: a real turn, transcript and
 *                                          usage, without the internet)
 *   POST /scripts {"steps":[ModelAnswer…]} a new script → 201 {"id","baseUrl"}; the agent's
 *                                          model `baseUrl` is that `baseUrl`
 *   POST /scripts/:id/v1/chat/completions  the script's next answer as Chat Completions
 *   POST /scripts/:id/v1/messages          the script's next answer as Anthropic Messages
 *   GET  /scripts/:id/requests             {"requests":[{path, headers, body}…], "remaining"}:
 *                                          what reached the model, in order
 *
 * The answers are model-wire.ts's, the same bodies the Workers tests' scripted fetch sends.
 * A script's requests past its last step get 500, so a test whose turn asks once too often
 * sees a failed model, never a made-up answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicMessage, chatCompletion, type ModelAnswer } from './model-wire.ts';

export const STAND_IN_REPLY = 'Thanks, your order 1042 ships tomorrow.';
export const STAND_IN_USAGE = { prompt_tokens: 1200, completion_tokens: 300 };
/** A request body larger than this is refused (413): the gateway's own requests are far smaller. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface RecordedRequest {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

interface Script {
  steps: ModelAnswer[];
  next: number;
  requests: RecordedRequest[];
}

export interface ModelServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** How many fixed-reply requests (`POST /v1/chat/completions`) arrived. */
  requests: () => number;
  close: () => Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

function isAnswer(value: unknown): value is ModelAnswer {
  if (typeof value !== 'object' || value === null) return false;
  const step = value as Record<string, unknown>;
  if (typeof step.text === 'string') return true;
  return (
    Array.isArray(step.toolCalls) &&
    step.toolCalls.every((call) => typeof call === 'object' && call !== null && typeof (call as { name?: unknown }).name === 'string')
  );
}

/** Starts the server on `port` (0: any free port) of 127.0.0.1. */
export function startModelServer(port = 0): Promise<ModelServer> {
  let fixedRequests = 0;
  let nextScript = 0;
  const scripts = new Map<string, Script>();
  let origin = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === null) return json(res, 413, { error: { message: 'request body too large' } });
    const path = new URL(req.url ?? '/', 'http://model.invalid').pathname;
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      fixedRequests++;
      return json(res, 200, {
        id: `c${fixedRequests}`,
        object: 'chat.completion',
        created: 0,
        model: 'stand-in',
        choices: [{ index: 0, message: { role: 'assistant', content: STAND_IN_REPLY }, finish_reason: 'stop' }],
        usage: { ...STAND_IN_USAGE, total_tokens: STAND_IN_USAGE.prompt_tokens + STAND_IN_USAGE.completion_tokens },
      });
    }
    if (req.method === 'POST' && path === '/scripts') {
      const body = JSON.parse(raw.toString('utf8') || 'null') as { steps?: unknown } | null;
      if (!Array.isArray(body?.steps) || !body.steps.every(isAnswer)) return json(res, 400, { error: { message: 'steps: ModelAnswer[]' } });
      const id = `s${++nextScript}`;
      scripts.set(id, { steps: body.steps, next: 0, requests: [] });
      return json(res, 201, { id, baseUrl: `${origin}/scripts/${id}/v1` });
    }
    const match = /^\/scripts\/(s\d+)\/(v1\/chat\/completions|v1\/messages|requests)$/.exec(path);
    const script = match ? scripts.get(match[1]!) : undefined;
    if (!match || !script) return json(res, 404, { error: { message: 'not found' } });
    if (match[2] === 'requests') {
      if (req.method !== 'GET') return json(res, 405, { error: { message: 'GET only' } });
      return json(res, 200, { requests: script.requests, remaining: script.steps.length - script.next });
    }
    if (req.method !== 'POST') return json(res, 405, { error: { message: 'POST only' } });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return json(res, 400, { error: { message: 'not JSON' } });
    }
    script.requests.push({ path, headers, body });
    const step = script.steps[script.next++];
    if (!step) return json(res, 500, { error: { message: 'script exhausted' } });
    const n = script.next;
    return json(res, 200, match[2] === 'v1/messages' ? anthropicMessage(step, n) : chatCompletion(step, n));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: { message: 'model server failed' } });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({
        origin,
        requests: () => fixedRequests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
