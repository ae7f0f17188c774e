import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { BUSY_REPLY, INTERRUPTED_REPLY, MAX_QUEUED_CHANNEL_TURNS, WAITING_FOR_APPROVAL_REPLY } from '../../src/conversations';
import { bytesToHex } from '../../src/lib';
import { NO_RUNTIME_REPLY } from '../../src/webhooks';
import { ORIGIN } from './helpers';
import { signedSlackMessage } from './runtime-support';
import { asSession, inviteUser, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';
import { UNKNOWN_RESULT_AFTER_RESTART } from '../../src/conversations/resume-run';
import { scriptConversationOutbound } from './conversation-outbound';
import { gatedModelFetch, MODEL_BASE, scriptedModel, type ScriptStep } from './scripted-model';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';

const SIGNING_SECRET = 'slack-signing-secret-for-runtime-tests';
const BOT_TOKEN = 'xoxb-1234567890-runtime-test-bot-token';
const MODEL_KEY = 'sk-runtime-webhook-model-key-0123456789';
const DISCORD_APPLICATION_ID = '111111111111111111';

let owner: Session;
let operator: Session;
let event = 0;
/** Every world's model gate, opened after each test so a test that fails early leaves no turn blocked for the next one. */
const gates: Array<() => void> = [];
afterEach(async () => {
  for (const open of gates.splice(0)) open();
  await settleChannelTurns();
});

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
function world(script: ScriptStep[], options: { slowModel?: boolean } = {}) {
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
  const gate = gatedModelFetch(model.fetch);
  gates.push(gate.open);
  const outbound = options.slowModel ? gate.fetch : model.fetch;
  const app = createApp({ loginThrottle: testThrottle, fetch: outbound });
  // Channel turns run inside the Conversation objects, which reach the world through the same script.
  scriptConversationOutbound({ fetch: outbound, bindings: LOCAL_EXECUTOR });
  const bindings = { ...env, ...LOCAL_EXECUTOR };
  async function hook(path: string, text: string, thread = '1700000000.000100', settle = true) {
    event++;
    const { raw, headers } = await signedSlackMessage(SIGNING_SECRET, { eventId: `Ev${event}`, text, ts: `1700000000.00${event}`, thread });
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers, 'CF-Connecting-IP': '198.51.100.30' },
        body: raw,
      }),
      bindings,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    if (settle) await settleChannelTurns();
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
    // The hand-off runs in waitUntil, after the acknowledgement; the turn then runs in the conversation's object.
    const ack = (await res.json()) as unknown;
    await waitOnExecutionContext(ctx);
    await settleChannelTurns();
    return { status: res.status, ack };
  }
  return { hook, interact, posted, followUps, model, runner, gate, call: toolApp({ fetch: model.fetch, bindings: LOCAL_EXECUTOR }) };
}

/**
 * Runs what every conversation's alarm would run now and waits for it (a decided paused turn,
 * then the queued channel turns); a run the alarm already started is joined, not re-run.
 */
async function settleChannelTurns() {
  const { results } = await env.DB.prepare('SELECT id FROM conversations').all<{ id: string }>();
  for (const { id } of results) {
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(id));
    // A paused turn whose approval was decided resumes here too (the alarm's first step).
    await stub.settlePaused();
    while (await stub.runNextChannelTurn());
  }
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
    // The resumed turn runs inside the conversation object, from its alarm.
    await settleChannelTurns();
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

/** The one Conversation object of an agent's only conversation. */
async function conversationObjectOf(agentId: string) {
  const row = await env.DB.prepare('SELECT id FROM conversations WHERE agent_id = ?').bind(agentId).first<{ id: string }>();
  expect(row).not.toBeNull();
  return { conversationId: row!.id, stub: env.CONVERSATION.get(env.CONVERSATION.idFromName(row!.id)) };
}

function queuedRows(stub: DurableObjectStub) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql.exec<{ envelope: string; started_at: number | null }>('SELECT envelope, started_at FROM channel_queue').toArray(),
  );
}

describe('channel turns run inside the conversation object', () => {
  it('the hand-off returns while the model is still thinking; the message waits sealed in the object, and the reply follows', async () => {
    const { agentId, webhookPath } = await slackAgent('slack-slow-model');
    const w = world([{ text: 'Thought about it: yes.' }], { slowModel: true });
    // The webhook request and its waitUntil are over; the model has not answered.
    expect((await w.hook(webhookPath, 'a question that takes long to answer', '1700000003.000100', false)).status).toBe(200);
    expect(w.posted).toEqual([]);
    const { stub } = await conversationObjectOf(agentId);
    const rows = await queuedRows(stub);
    expect(rows).toHaveLength(1);
    // Sealed with the workspace's vault key: neither the text nor the reply handle is readable at rest.
    // Only base64url after the key id: no JSON (quotes, the channel or thread fields) and no text
    // at rest. (A short plaintext such as the channel id 'C9' would turn up in random base64 by chance.)
    expect(rows[0]!.envelope).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(rows[0]!.envelope).not.toContain('long to answer');
    expect(rows[0]!.envelope).not.toContain('1700000003.000100');
    w.gate.open();
    await settleChannelTurns();
    expect(w.posted.map((p) => p.body.text)).toEqual(['Thought about it: yes.']);
    expect(w.posted[0]!.auth).toBe(`Bearer ${BOT_TOKEN}`);
    expect(await queuedRows(stub)).toEqual([]);
  });

  it('a second message while the first turn runs waits for it: both are answered in order, the second turn sees the first', async () => {
    const { agentId, webhookPath } = await slackAgent('slack-serialised');
    const w = world([{ text: 'first answer' }, { text: 'second answer' }], { slowModel: true });
    const thread = '1700000004.000100';
    expect((await w.hook(webhookPath, 'first question', thread, false)).status).toBe(200);
    expect((await w.hook(webhookPath, 'second question', thread, false)).status).toBe(200);
    const { stub } = await conversationObjectOf(agentId);
    w.gate.open();
    await settleChannelTurns();
    expect(w.posted.map((p) => p.body.text)).toEqual(['first answer', 'second answer']);
    expect(w.model.requests).toHaveLength(2);
    // The second model call carries the whole first exchange before the second question.
    const second = JSON.stringify(w.model.requests[1]!.body.messages);
    expect(second.indexOf('first question')).toBeLessThan(second.indexOf('first answer'));
    expect(second.indexOf('first answer')).toBeLessThan(second.indexOf('second question'));
    expect(await queuedRows(stub)).toEqual([]);
  });

  it('a turn cut by an eviction or restart is not run again: the sender is told, its dead lease is freed, the next message gets a turn', async () => {
    const { agentId, webhookPath } = await slackAgent('slack-restart');
    const w = world([{ text: 'hi' }, { text: 'after the restart' }]);
    const thread = '1700000005.000100';
    // A first message makes the conversation; then the object is left as an instance that died
    // mid-turn leaves it: a queued message marked started, and the lease that turn held.
    // (Resetting the object with state.abort() cannot show this here: in the test pool the cut
    // turn's code goes on running in the shared isolate, which workerd would have dropped.)
    expect((await w.hook(webhookPath, 'hello', thread)).status).toBe(200);
    expect(w.posted).toHaveLength(1);
    const { conversationId, stub } = await conversationObjectOf(agentId);
    const connectorId = webhookPath.split('/').at(-1)!;
    const workspaceId = (await env.DB.prepare('SELECT workspace_id AS w FROM agents WHERE id = ?').bind(agentId).first<{ w: string }>())!.w;
    await runInDurableObject(stub, async (instance, state) => {
      const origin = {
        kind: 'channel' as const,
        platform: 'slack' as const,
        connectorId,
        replyHandle: { platform: 'slack' as const, channel: 'C9', threadTs: thread },
      };
      expect(
        await instance.enqueueChannelTurn(
          { workspaceId, agentId, conversationId },
          { text: 'cut question', origin, senderId: 'U42', receivedAt: Date.now() },
        ),
      ).toBe(true);
      // Synchronously after the enqueue, before its alarm can run: the dead turn took the lease,
      // stored its question and the model's tool call, and died before the call's result.
      const lease = await instance.acquire({ workspaceId, agentId, conversationId }, 0, 600_000);
      if (!lease.ok) throw new Error('the conversation should be free');
      await instance.append({ workspaceId, agentId, conversationId }, lease.token, [
        { role: 'user', content: 'cut question' },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', toolCallId: 'call_cut', toolName: 'read_file', input: { path: 'notes.txt' } }],
        },
      ]);
      state.storage.sql.exec('UPDATE channel_queue SET started_at = ?, lease = ?', Date.now(), lease.token);
    });
    await settleChannelTurns();
    expect(w.posted.map((p) => p.body.text).slice(1)).toEqual([INTERRUPTED_REPLY]);
    expect(w.model.requests).toHaveLength(1);
    expect(await queuedRows(stub)).toEqual([]);
    // The dead turn's lease no longer holds the conversation: the next message is answered at once.
    expect((await w.hook(webhookPath, 'question after the restart', thread)).status).toBe(200);
    expect(w.posted.map((p) => p.body.text).slice(1)).toEqual([INTERRUPTED_REPLY, 'after the restart']);
    // And the history it was given is valid: the cut call has a result right after it, then the interrupted reply.
    const history = w.model.requests[1]!.body.messages as Array<Record<string, unknown>>;
    const call = history.findIndex((m) => JSON.stringify(m.tool_calls ?? []).includes('call_cut'));
    expect(call).toBeGreaterThan(0);
    expect(history[call + 1]).toMatchObject({ role: 'tool', tool_call_id: 'call_cut', content: UNKNOWN_RESULT_AFTER_RESTART });
    expect(history[call + 2]).toMatchObject({ role: 'assistant', content: INTERRUPTED_REPLY });
  });

  it(`a flood: past ${MAX_QUEUED_CHANNEL_TURNS} waiting messages the next one is answered "busy" at once and never queued`, async () => {
    const { agentId, webhookPath } = await slackAgent('slack-flood');
    const answers = Array.from({ length: MAX_QUEUED_CHANNEL_TURNS }, (_, i) => ({ text: `answer ${i}` }));
    const w = world(answers, { slowModel: true });
    const thread = '1700000006.000100';
    for (let i = 0; i < MAX_QUEUED_CHANNEL_TURNS; i++) expect((await w.hook(webhookPath, `question ${i}`, thread, false)).status).toBe(200);
    const { stub } = await conversationObjectOf(agentId);
    expect(await queuedRows(stub)).toHaveLength(MAX_QUEUED_CHANNEL_TURNS);
    expect((await w.hook(webhookPath, 'one too many', thread, false)).status).toBe(200);
    expect(w.posted.map((p) => p.body.text)).toEqual([BUSY_REPLY]);
    expect(await queuedRows(stub)).toHaveLength(MAX_QUEUED_CHANNEL_TURNS);
    w.gate.open();
    await settleChannelTurns();
    // Every queued message got its turn, in order; the refused one never reached the model.
    expect(w.posted.map((p) => p.body.text)).toEqual([BUSY_REPLY, ...answers.map((a) => a.text)]);
    expect(JSON.stringify(w.model.requests.map((r) => r.body.messages))).not.toContain('one too many');
  });

  it('a queued row edited at rest (its job id) or moved into another conversation does not open: it is dropped, never run or answered', async () => {
    const first = await slackAgent('slack-tamper-a');
    const second = await slackAgent('slack-tamper-b');
    const w = world([{ text: 'a: hello' }, { text: 'b: hello' }, { text: 'a: still answering' }]);
    expect((await w.hook(first.webhookPath, 'hello a', '1700000007.000100')).status).toBe(200);
    expect((await w.hook(second.webhookPath, 'hello b', '1700000008.000100')).status).toBe(200);
    expect(w.posted.map((p) => p.body.text)).toEqual(['a: hello', 'b: hello']);
    const a = await conversationObjectOf(first.agentId);
    const b = await conversationObjectOf(second.agentId);
    const workspaceId = (await env.DB.prepare('SELECT workspace_id AS w FROM agents WHERE id = ?')
      .bind(first.agentId)
      .first<{ w: string }>())!.w;
    const job = (text: string) => ({
      text,
      origin: {
        kind: 'channel' as const,
        platform: 'slack' as const,
        connectorId: first.webhookPath.split('/').at(-1)!,
        replyHandle: { platform: 'slack' as const, channel: 'C9', threadTs: '1700000007.000100' },
      },
      senderId: 'U42',
      receivedAt: Date.now(),
    });
    // 1. A's own row, its job id (part of the envelope's AAD) changed.
    await runInDurableObject(a.stub, async (instance, state) => {
      expect(
        await instance.enqueueChannelTurn({ workspaceId, agentId: first.agentId, conversationId: a.conversationId }, job('edited')),
      ).toBe(true);
      // Synchronously after the enqueue, before its alarm can run.
      state.storage.sql.exec("UPDATE channel_queue SET job_id = 'another-job-id'");
    });
    // 2. A row sealed for A, taken out of A's queue and put into B's.
    const moved = await runInDurableObject(a.stub, async (instance, state) => {
      expect(
        await instance.enqueueChannelTurn({ workspaceId, agentId: first.agentId, conversationId: a.conversationId }, job('moved')),
      ).toBe(true);
      const [row] = state.storage.sql.exec<{ job_id: string; envelope: string }>('SELECT job_id, envelope FROM channel_queue').toArray();
      state.storage.sql.exec('DELETE FROM channel_queue');
      return row!;
    });
    await runInDurableObject(b.stub, (_instance, state) => {
      state.storage.sql.exec('INSERT INTO channel_queue (job_id, envelope) VALUES (?, ?)', moved.job_id, moved.envelope);
    });
    await settleChannelTurns();
    expect(w.model.requests).toHaveLength(2);
    expect(w.posted.map((p) => p.body.text)).toEqual(['a: hello', 'b: hello']);
    expect(await queuedRows(a.stub)).toEqual([]);
    expect(await queuedRows(b.stub)).toEqual([]);
    // Nothing is stuck: the next real message in A is answered.
    expect((await w.hook(first.webhookPath, 'still there?', '1700000007.000100')).status).toBe(200);
    expect(w.posted.map((p) => p.body.text)).toEqual(['a: hello', 'b: hello', 'a: still answering']);
  });
});
