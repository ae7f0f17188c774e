/**
 * A stand-in model provider for the browser run: a Node HTTP server on 127.0.0.1 that answers
 * OpenAI Chat Completions (`POST /v1/chat/completions`) with one fixed reply and fixed token
 * counts, so the agent runtime pages show a real turn (transcript, usage) without the
 * internet. The gateway may call it only because the global setup lists it in
 * MODEL_PRIVATE_HOSTS for this run (docs/agents.md "Models").
 */
import { createServer, type Server } from 'node:http';

export const STAND_IN_REPLY = 'Thanks, your order 1042 ships tomorrow.';
export const STAND_IN_USAGE = { prompt_tokens: 1200, completion_tokens: 300 };

export function startModelStandIn(port: number): Promise<{ requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      requests++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `c${requests}`,
          object: 'chat.completion',
          created: 0,
          model: 'stand-in',
          choices: [{ index: 0, message: { role: 'assistant', content: STAND_IN_REPLY }, finish_reason: 'stop' }],
          usage: { ...STAND_IN_USAGE, total_tokens: STAND_IN_USAGE.prompt_tokens + STAND_IN_USAGE.completion_tokens },
        }),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({ requests: () => requests, close: () => new Promise<void>((done) => server.close(() => done())) }),
    );
  });
}
