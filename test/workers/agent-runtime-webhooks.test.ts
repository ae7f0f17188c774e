import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { WAITING_FOR_APPROVAL_REPLY } from '../../src/conversations';
import { bytesToHex } from '../../src/lib';
import { NO_RUNTIME_REPLY, slackV0Mac } from '../../src/webhooks';
import { ORIGIN } from './helpers';
import { asSession, inviteUser, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';
import { MODEL_BASE, scriptedModel, type ScriptStep } from './scripted-model';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';

const SIGNING_SECRET = 'slack-signing-secret-for-runtime-tests';
const BOT_TOKEN = 'xoxb-1234567890-runtime-test-bot-token';
const MODEL_KEY = 'sk-runtime-webhook-model-key-0123456789';
const DISCORD_APPLICATION_ID = '111111111111111111';

let owner: Session;
let operator: Session;
let event = 0;

async function slackAgent(name: string, options: { model?: boolean; tools?: Record<string, unknown> } = {}) {
  const created = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name, isolation: 'sandbox' } });
  const { id } = (await created.json()) as { id: string };
  expect(
    (
      await asSession(owner, `/api/v1/agents/${id}/tools`, {
        method: 'POST',
        body: { manifest: TEST_MANIFEST, tools: options.tools ?? {} },
      })
    ).status,
  ).toBe(201);
  if (options.model !== false) {
    const model = { provider: 'openai-compatible', model: 'scripted', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' };
    expect((await asSession(owner, `/api/v1/agents/${id}`, { method: 'PATCH', body: { model } })).status).toBe(200);
  }
  const connector = await asSession(owner, `/api/v1/agents/${id}/connectors`, {
    method: 'POST',
    body: { platform: 'slack', signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN },
  });
  expect(connector.status).toBe(201);
  const { webhookPath } = (await connector.json()) as { webhookPath: string };
  return { agentId: id, webhookPath };
}

/** The whole Worker app with a scripted model, the stub runner, and Slack's Web API recording what is posted. */
function world(script: ScriptStep[]) {
  const runner = stubRunner(() => ({ stdout: 'contents of the file\n' }));
  const posted: Array<{ url: string; auth: string | null; body: Record<string, unknown> }> = [];
  const followUps: Array<{ url: string; body: Record<string, unknown> }> = [];
  const slack = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.url === 'https://slack.com/api/chat.postMessage') {
      posted.push({
        url: request.url,
        auth: request.headers.get('Authorization'),
        body: (await request.json()) as Record<string, unknown>,
      });
      return Response.json({ ok: true });
    }
    if (request.url.startsWith('https://discord.com/api/v10/webhooks/')) {
      followUps.push({ url: request.url, body: (await request.json()) as Record<string, unknown> });
      return Response.json({ id: '1' });
    }
    return runner.fetch(request);
  }) as typeof fetch;
  const model = scriptedModel(script, slack);
  const app = createApp({ loginThrottle: testThrottle, fetch: model.fetch });
  const bindings = { ...env, ...LOCAL_EXECUTOR };
  async function hook(path: string, text: string, thread = '1700000000.000100') {
    event++;
    const raw = JSON.stringify({
      type: 'event_callback',
      event_id: `Ev${event}`,
      team_id: 'T1',
      event: { type: 'message', user: 'U42', text, channel: 'C9', ts: `1700000000.00${event}`, thread_ts: thread },
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const mac = `v0=${bytesToHex(await slackV0Mac(SIGNING_SECRET, ts, new TextEncoder().encode(raw)))}`;
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Slack-Request-Timestamp': ts,
          'X-Slack-Signature': mac,
          'CF-Connecting-IP': '198.51.100.30',
        },
        body: raw,
      }),
      bindings,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }
  /** A signed Discord slash command (`/ask q:<text>`), as Discord sends an interaction. */
  async function interact(path: string, keys: CryptoKeyPair, text: string) {
    event++;
    const body = JSON.stringify({
      id: `9200000000000000${String(event).padStart(2, '0')}`,
      type: 2,
      application_id: DISCORD_APPLICATION_ID,
      token: `interaction-token-runtime-${event}`,
      channel_id: '222222222222222222',
      member: { user: { id: '444444444444444444', username: 'ada' } },
      data: { name: 'ask', options: [{ name: 'q', type: 3, value: text }] },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = bytesToHex(
      new Uint8Array(await crypto.subtle.sign('Ed25519', keys.privateKey, new TextEncoder().encode(timestamp + body))),
    );
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Signature-Ed25519': signature,
          'X-Signature-Timestamp': timestamp,
          'CF-Connecting-IP': '198.51.100.31',
        },
        body,
      }),
      bindings,
      ctx,
    );
    // The turn runs in waitUntil, after the acknowledgement; wait for it before asserting the follow-up.
    const ack = (await res.json()) as unknown;
    await waitOnExecutionContext(ctx);
    return { status: res.status, ack };
  }
  return { hook, interact, posted, followUps, model, runner, call: toolApp({ fetch: model.fetch, bindings: LOCAL_EXECUTOR }) };
}

beforeAll(async () => {
  await setupInstance('Runtime hooks');
  owner = await login(OWNER.email, OWNER.password);
  await inviteUser(owner, 'op-hooks@example.com', 'operator', 'operator passphrase long enough');
  operator = await login('op-hooks@example.com', 'operator passphrase long enough');
  expect((await asSession(owner, '/api/v1/credentials/MODEL_KEY', { method: 'PUT', body: { value: MODEL_KEY } })).status).toBeLessThan(300);
});

describe('webhook hand-off to the conversation', () => {
  it('a Slack event produces a tool call in the local sandbox and a reply in Slack’s API shape, in the same thread', async () => {
    const { agentId, webhookPath } = await slackAgent('slack-runtime');
    const w = world([{ toolCalls: [{ name: 'cat', args: { path: '/workspace/todo' } }] }, { text: 'Your list: contents of the file' }]);
    expect((await w.hook(webhookPath, 'what is on my list?')).status).toBe(200);
    expect(w.runner.calls.map((c) => c.body.argv)).toEqual([['cat', '/workspace/todo']]);
    expect(w.posted).toEqual([
      {
        url: 'https://slack.com/api/chat.postMessage',
        auth: `Bearer ${BOT_TOKEN}`,
        body: {
          channel: 'C9',
          thread_ts: '1700000000.000100',
          text: 'Your list: contents of the file',
          unfurl_links: false,
          unfurl_media: false,
        },
      },
    ]);
    // The conversation is the thread's: a second message in it continues it.
    const list = (await (await asSession(owner, `/api/v1/agents/${agentId}/conversations`)).json()) as {
      conversations: Array<{ channel: string }>;
    };
    expect(list.conversations).toEqual([expect.objectContaining({ channel: 'slack' })]);
  });

  it('a channel turn paused for approval posts "waiting for approval", and the reply follows the operator’s decision', async () => {
    const { agentId, webhookPath } = await slackAgent('slack-approval', { tools: { cat: { approval: 'always' } } });
    const w = world([{ toolCalls: [{ name: 'cat', args: { path: '/workspace/todo' } }] }, { text: 'Approved and read.' }]);
    expect((await w.hook(webhookPath, 'read it', '1700000001.000100')).status).toBe(200);
    expect(w.posted.map((p) => p.body.text)).toEqual([WAITING_FOR_APPROVAL_REPLY]);
    expect(w.runner.calls).toHaveLength(0);
    const pending = (await (await asSession(operator, '/api/v1/approvals')).json()) as {
      approvals: Array<{ id: string; agentId: string }>;
    };
    const approval = pending.approvals.find((a) => a.agentId === agentId);
    expect(approval).toBeDefined();
    const decided = await w.call(operator, `/api/v1/approvals/${approval!.id}`, { method: 'POST', body: { decision: 'approve' } });
    expect(decided.status).toBe(200);
    expect(w.runner.calls).toHaveLength(1);
    expect(w.posted.map((p) => p.body.text)).toEqual([WAITING_FOR_APPROVAL_REPLY, 'Approved and read.']);
    expect(w.posted[1]!.body).toMatchObject({ channel: 'C9', thread_ts: '1700000001.000100' });
  });

  it('a Discord command is deferred (type 5) at once, then the agent’s reply arrives as the follow-up, mentions disabled', async () => {
    const created = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'discord-runtime', isolation: 'sandbox' } });
    const { id } = (await created.json()) as { id: string };
    const model = { provider: 'openai-compatible', model: 'scripted', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' };
    expect((await asSession(owner, `/api/v1/agents/${id}`, { method: 'PATCH', body: { model } })).status).toBe(200);
    const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const publicKey = bytesToHex(new Uint8Array((await crypto.subtle.exportKey('raw', keys.publicKey)) as ArrayBuffer));
    const connector = await asSession(owner, `/api/v1/agents/${id}/connectors`, {
      method: 'POST',
      body: { platform: 'discord', applicationId: DISCORD_APPLICATION_ID, publicKey },
    });
    expect(connector.status).toBe(201);
    const { webhookPath } = (await connector.json()) as { webhookPath: string };
    const w = world([{ text: 'Hello Ada @everyone' }]);
    const { status, ack } = await w.interact(webhookPath, keys, 'say hello');
    expect(status).toBe(200);
    expect(ack).toEqual({ type: 5 });
    expect(w.model.requests).toHaveLength(1);
    expect(w.followUps).toHaveLength(1);
    expect(w.followUps[0]!.url).toBe(`https://discord.com/api/v10/webhooks/${DISCORD_APPLICATION_ID}/interaction-token-runtime-${event}`);
    // The output filter strips the mass mention; Discord is told to ping nobody anyway.
    expect(w.followUps[0]!.body).toMatchObject({ allowed_mentions: { parse: [] } });
    expect(String(w.followUps[0]!.body.content)).toContain('Hello Ada');
    expect(String(w.followUps[0]!.body.content)).not.toContain('@everyone');
  });

  it('an agent without a model keeps the "no agent runtime configured" reply, and no model is called', async () => {
    const { webhookPath } = await slackAgent('slack-no-model', { model: false });
    const w = world([{ text: 'never' }]);
    expect((await w.hook(webhookPath, 'hello', '1700000002.000100')).status).toBe(200);
    expect(w.posted.map((p) => p.body.text)).toEqual([NO_RUNTIME_REPLY]);
    expect(w.model.requests).toHaveLength(0);
  });
});
