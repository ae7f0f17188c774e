import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loginThrottle } from '../../src/index';
import { MODEL_BASE, scriptedModel, type ScriptStep } from '../../test/workers/scripted-model';
import { measure, report } from './harness';

const ORIGIN = 'https://gateway.example.com';
const OWNER = { email: 'bench-runtime@example.com', password: 'bench passphrase that is long' };
// Thousands of turns from one key and address: lift the limits so a row measures a turn, not a 429.
const UNLIMITED = JSON.stringify({ 'api-ip': { limit: 10_000, windowS: 1 }, 'api-credential': { limit: 10_000, windowS: 1 } });
/** A turn writes D1 rows, audit events and the encrypted transcript: run long enough for a stable ratio. */
const TURN_RUN = { durationMs: 6000, warmup: 3 };
/** Conversations in flight at once for the "across many" row. */
const PARALLEL = 8;

/**
 * The agent runtime's own cost per turn: a REST message whose model (the scripted Chat
 * Completions provider, in-process) answers at once and calls no tool, so everything measured
 * beyond the baseline is the gateway's work — authentication, the conversation lease, guards,
 * the encrypted transcript, usage and audit. Baseline: the scripted model's own answer to the
 * same request shape, called directly.
 */
it('runtime: a turn through one conversation and across many, against the scripted model alone', async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  const script: ScriptStep[] = Array.from({ length: 200_000 }, () => ({ text: 'ok' }));
  const model = scriptedModel(script);
  const app = createApp({ loginThrottle, fetch: model.fetch });
  const bindings = { ...env, RATE_LIMITS: UNLIMITED };
  const send = (path: string, init: RequestInit) => {
    const request = new Request(`${ORIGIN}${path}`, init);
    request.headers.set('CF-Connecting-IP', '198.18.9.9');
    return app.fetch(request, bindings);
  };
  const json = { 'Content-Type': 'application/json' };
  const setup = await send('/api/v1/setup', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ token: env.SETUP_TOKEN, workspace: 'Bench', ...OWNER }),
  });
  expect(setup.status).toBe(201);
  const login = await send('/api/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify(OWNER) });
  const cookie = (login.headers.get('Set-Cookie') ?? '').split(';')[0]!;
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const session = { ...json, Cookie: cookie, 'X-CSRF-Token': csrfToken };
  expect(
    (
      await send('/api/v1/credentials/MODEL_KEY', {
        method: 'PUT',
        headers: session,
        body: JSON.stringify({ value: 'sk-bench-model-key-0123456789' }),
      })
    ).status,
  ).toBeLessThan(300);
  const { key } = (await (
    await send('/api/v1/api-keys', { method: 'POST', headers: session, body: JSON.stringify({ name: 'bench', scopes: ['tools:invoke'] }) })
  ).json()) as { key: string };
  const { id: agentId } = (await (
    await send('/api/v1/agents', { method: 'POST', headers: session, body: JSON.stringify({ name: 'bench-bot', isolation: 'sandbox' }) })
  ).json()) as { id: string };
  const settings = { provider: 'openai-compatible', model: 'scripted', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' };
  expect(
    (await send(`/api/v1/agents/${agentId}`, { method: 'PATCH', headers: session, body: JSON.stringify({ model: settings }) })).status,
  ).toBe(200);
  const bearer = { ...json, Authorization: `Bearer ${key}` };
  const turn = async (conversationId?: string): Promise<string> => {
    const res = await send(`/api/v1/agents/${agentId}/messages`, {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({ text: 'hello', ...(conversationId ? { conversationId } : {}) }),
    });
    const body = (await res.json()) as { conversationId?: string; reply?: string };
    if (res.status !== 200 || body.reply !== 'ok' || !body.conversationId) throw new Error(`turn answered ${res.status}`);
    return body.conversationId;
  };

  const modelAlone = await measure(
    'scripted model alone (one Chat Completions answer)',
    async () => {
      const res = await model.fetch(`${MODEL_BASE}/chat/completions`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ model: 'scripted', messages: [{ role: 'user', content: 'hello' }] }),
      });
      await res.json();
    },
    { durationMs: 1500, warmup: 20 },
  );
  const one = await turn();
  const sameConversation = await measure('POST /messages, one conversation (turns in order)', () => turn(one), TURN_RUN);
  const newConversation = await measure('POST /messages, a new conversation each turn', () => turn(), TURN_RUN);
  const conversations = await Promise.all(Array.from({ length: PARALLEL }, () => turn()));
  const acrossMany = await measure(
    `POST /messages, ${PARALLEL} conversations in flight (one op = ${PARALLEL} turns)`,
    () => Promise.all(conversations.map((id) => turn(id))),
    TURN_RUN,
  );
  report('runtime-turn', modelAlone, [sameConversation, newConversation, acrossMany], {
    turnsPerSecond: {
      oneConversation: sameConversation.opsPerSec,
      newConversationEach: newConversation.opsPerSec,
      [`${PARALLEL}InFlight`]: acrossMany.opsPerSec * PARALLEL,
    },
    gatewayOverheadPerTurnUs: Math.max(0, sameConversation.p50Us - modelAlone.p50Us),
  });
});
