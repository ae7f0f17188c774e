import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { conversationSealedStore } from '../../src/conversations';
import { newRestConversation } from '../../src/conversations/store';
import { createDb } from '../../src/db';
import { encodeBase64 } from '../../src/lib';
import { rotateVault } from '../../src/vault';
import { scriptConversationOutbound } from './conversation-outbound';
import { ORIGIN } from './helpers';
import { signedSlackMessage } from './runtime-support';
import { asSession, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';
import { gatedModelFetch, MODEL_BASE, scriptedModel, type ScriptStep } from './scripted-model';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';
import { K1, K2, K3, T0, withKeys } from './vault-support';

const K4 = `k4:${encodeBase64(new Uint8Array(32).fill(0x44))}`;
const K5 = `k5:${encodeBase64(new Uint8Array(32).fill(0x55))}`;

const SIGNING_SECRET = 'slack-signing-secret-for-rotation-tests';
const BOT_TOKEN = 'xoxb-1234567890-rotation-test-bot-token';
const MODEL_SETTINGS = { provider: 'openai-compatible', model: 'scripted', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' };

let owner: Session;

beforeAll(async () => {
  await setupInstance('Conversation rotation');
  owner = await login(OWNER.email, OWNER.password);
  expect(
    (await asSession(owner, '/api/v1/credentials/MODEL_KEY', { method: 'PUT', body: { value: 'sk-rotation-model-key-0123' } })).status,
  ).toBeLessThan(300);
});

afterAll(() => scriptConversationOutbound(null));

function stubOf(conversationId: string) {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(conversationId));
}

/** The key id each sealed row of a conversation object names: transcript, queued channel jobs, paused turn. */
function sealedKeyIds(conversationId: string) {
  return runInDurableObject(stubOf(conversationId), (_instance, state) =>
    state.storage.sql
      .exec<{ envelope: string }>(
        "SELECT envelope FROM messages UNION ALL SELECT envelope FROM channel_queue UNION ALL SELECT value AS envelope FROM meta WHERE key = 'paused'",
      )
      .toArray()
      .map((r) => r.envelope.split('.')[1]),
  );
}

/** vault_secrets rows not under `keyId`: what the D1 part of a rotation call has to do. */
async function d1RowsNotUnder(keyId: string): Promise<number> {
  const row = await env.DB.prepare('SELECT count(*) AS n FROM vault_secrets WHERE key_id != ?').bind(keyId).first<{ n: number }>();
  return row?.n ?? -1;
}

async function agentWithModel(name: string): Promise<string> {
  const created = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name, isolation: 'sandbox' } });
  const { id } = (await created.json()) as { id: string };
  expect(
    (await asSession(owner, `/api/v1/agents/${id}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST, tools: {} } })).status,
  ).toBe(201);
  expect((await asSession(owner, `/api/v1/agents/${id}`, { method: 'PATCH', body: { model: MODEL_SETTINGS } })).status).toBe(200);
  return id;
}

/**
 * One deployment under a keyring: the Worker app (REST and webhooks) and the conversation
 * objects' own turns with the same VAULT_KEYS, the scripted model (gated: a model call waits
 * until the test opens the gate) and Slack's Web API recording what is posted.
 */
function world(script: ScriptStep[]) {
  const posted: string[] = [];
  const slack = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.url === 'https://slack.com/api/chat.postMessage') {
      posted.push(String(((await request.json()) as { text: string }).text));
      return Response.json({ ok: true });
    }
    return new Response('no internet in tests', { status: 599 });
  }) as typeof fetch;
  const model = scriptedModel(script, slack);
  const gate = gatedModelFetch(model.fetch, { armed: false });
  const outbound = gate.fetch;
  let keys = K1;
  const under = (vaultKeys: string, objectKeys = vaultKeys) => {
    keys = vaultKeys;
    scriptConversationOutbound({ fetch: outbound, bindings: { ...LOCAL_EXECUTOR, VAULT_KEYS: objectKeys } });
  };
  const app = createApp({ loginThrottle: testThrottle, fetch: outbound });
  let event = 0;
  return {
    posted,
    model,
    under,
    gate: gate.arm,
    /** Resolves once a model call waits at the gate. */
    arrived: gate.arrived,
    open: gate.open,
    call: (session: Session, path: string, init: { method?: string; body?: unknown } = {}) =>
      toolApp({ fetch: outbound, bindings: { ...LOCAL_EXECUTOR, VAULT_KEYS: keys } })(session, path, init),
    async hook(path: string, text: string, thread: string) {
      event++;
      const { raw, headers } = await signedSlackMessage(SIGNING_SECRET, {
        eventId: `EvRot${event}`,
        text,
        ts: `1700000100.00${event}`,
        thread,
      });
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`${ORIGIN}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: raw,
        }),
        { ...env, ...LOCAL_EXECUTOR, VAULT_KEYS: keys },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(200);
    },
  };
}

/** Runs what the object's alarm would run, until its queue is empty (a turn already running is joined). */
async function settle(conversationId: string) {
  while (await stubOf(conversationId).runNextChannelTurn());
}

type Report = { resealed: number; remaining: number; unreadable: number; activeKeyId: string };

async function rotate(w: ReturnType<typeof world>, body: Record<string, unknown> = {}): Promise<Report> {
  const res = await w.call(owner, '/api/v1/admin/vault/rotate', { method: 'POST', body });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

describe('vault rotation reaches the conversation objects (docs/vault.md "Rotation")', () => {
  it('rotation re-seals an unread transcript and a queued channel job while a turn runs; after k1 is retired both are whole', async () => {
    const w = world([{ text: 'sealed under the first key' }, { text: 'answer to the first' }, { text: 'answer to the queued one' }]);
    // Step 1 of the procedure: k2 known everywhere, k1 still sealing.
    w.under(`${K1},${K2}`);
    // A REST conversation that nobody reads again until the old key is gone.
    const restAgent = await agentWithModel('rotation-rest');
    const sent = await w.call(owner, `/api/v1/agents/${restAgent}/messages`, { method: 'POST', body: { text: 'remember this' } });
    expect(sent.status).toBe(200);
    const { conversationId: unread } = (await sent.json()) as { conversationId: string };
    expect(await sealedKeyIds(unread)).toEqual(['k1', 'k1']);

    // A Slack conversation: the first message's turn waits on the model, the second waits sealed in the queue.
    const slackAgent = await agentWithModel('rotation-slack');
    const connector = await asSession(owner, `/api/v1/agents/${slackAgent}/connectors`, {
      method: 'POST',
      body: { platform: 'slack', signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN },
    });
    expect(connector.status).toBe(201);
    const { webhookPath } = (await connector.json()) as { webhookPath: string };
    w.gate();
    await w.hook(webhookPath, 'first question', '1700000100.000100');
    await w.hook(webhookPath, 'queued question', '1700000100.000100');
    const channelRow = await env.DB.prepare('SELECT id FROM conversations WHERE agent_id = ?').bind(slackAgent).first<{ id: string }>();
    const channel = channelRow!.id;
    await w.arrived;
    // The first turn's user entry, the running job and the waiting one.
    expect(await sealedKeyIds(channel)).toEqual(['k1', 'k1', 'k1']);

    // 1. k2 added last, then made active. The Worker rotates while the objects still run the
    //    previous keyring (rolling out): they change nothing and count what they hold.
    w.under(`${K2},${K1}`, `${K1},${K2}`);
    const d1Pending = await d1RowsNotUnder('k2');
    expect(d1Pending).toBe(3); // MODEL_KEY, the connector's signing secret and bot token
    expect(await rotate(w)).toEqual({ resealed: d1Pending, remaining: 5, unreadable: 0, activeKeyId: 'k2' });
    expect(await sealedKeyIds(unread)).toEqual(['k1', 'k1']);

    // 2. The objects have the new keyring too: rotation re-seals inside each of them, the
    //    running turn's entry and the queued job included.
    w.under(`${K2},${K1}`);
    expect(await rotate(w)).toEqual({ resealed: 5, remaining: 0, unreadable: 0, activeKeyId: 'k2' });
    expect(await sealedKeyIds(unread)).toEqual(['k2', 'k2']);
    expect(await sealedKeyIds(channel)).toEqual(['k2', 'k2', 'k2']);
    expect(await rotate(w)).toEqual({ resealed: 0, remaining: 0, unreadable: 0, activeKeyId: 'k2' });

    // 3. k1 retired. The running turn finishes, the queued job runs, the unread transcript reads whole.
    w.under(K2);
    w.open();
    await settle(channel);
    expect(w.posted).toEqual(['answer to the first', 'answer to the queued one']);
    const transcript = await w.call(owner, `/api/v1/agents/${restAgent}/conversations/${unread}`);
    expect(transcript.status).toBe(200);
    expect(((await transcript.json()) as { messages: unknown[] }).messages).toEqual([
      { role: 'user', text: 'remember this' },
      { role: 'assistant', text: 'sealed under the first key' },
    ]);
    const thread = await w.call(owner, `/api/v1/agents/${slackAgent}/conversations/${channel}`);
    const entries = ((await thread.json()) as { messages: Array<{ role: string; text: string }> }).messages;
    expect(entries.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(entries[0]!.text).toContain('first question');
    expect(entries[1]!.text).toBe('answer to the first');
    expect(entries[2]!.text).toContain('queued question');
    expect(entries[3]!.text).toBe('answer to the queued one');
  });

  it('an object that seals under an older key after rotation confirmed it is visited again (a keyring rolling out)', async () => {
    const w = world([{ text: 'one' }, { text: 'two, from an instance on the old keyring' }]);
    w.under(`${K2},${K1}`);
    const agentId = await agentWithModel('rotation-relapse');
    const first = await w.call(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text: 'first' } });
    const { conversationId } = (await first.json()) as { conversationId: string };
    expect(await rotate(w)).toEqual({ resealed: 0, remaining: 0, unreadable: 0, activeKeyId: 'k2' });
    const confirmed = await env.DB.prepare('SELECT vault_key_id AS k FROM conversations WHERE id = ?')
      .bind(conversationId)
      .first<{ k: string }>();
    expect(confirmed).toEqual({ k: 'k2' });

    // The object runs on an instance that still has k1 active: what it reads and writes is sealed under k1.
    w.under(`${K2},${K1}`, `${K1},${K2}`);
    const again = await w.call(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text: 'second', conversationId } });
    expect(again.status).toBe(200);
    expect(await sealedKeyIds(conversationId)).toEqual(['k1', 'k1', 'k1', 'k1']);

    // Rotation finds them (it does not trust the old confirmation), and k1 can then go.
    w.under(`${K2},${K1}`);
    expect(await rotate(w)).toEqual({ resealed: 4, remaining: 0, unreadable: 0, activeKeyId: 'k2' });
    w.under(K2);
    const read = await w.call(owner, `/api/v1/agents/${agentId}/conversations/${conversationId}`);
    expect(((await read.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text)).toEqual([
      'first',
      'one',
      'second',
      'two, from an instance on the old keyring',
    ]);
  });

  it('a conversation row that does not open keeps remaining above 0 and counts as unreadable; deleting the conversation ends it', async () => {
    const w = world([{ text: 'soon tampered' }]);
    w.under(`${K2},${K1}`);
    const agentId = await agentWithModel('rotation-tamper');
    const sent = await w.call(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text: 'hello' } });
    const { conversationId } = (await sent.json()) as { conversationId: string };
    // An entry rewritten at rest under another key id (k1's prefix, a k2 ciphertext: it cannot open).
    await runInDurableObject(stubOf(conversationId), (_instance, state) => {
      state.storage.sql.exec("UPDATE messages SET envelope = 'v1.k1.' || substr(envelope, 7) WHERE seq = 1");
    });
    expect(await rotate(w)).toEqual({ resealed: 0, remaining: 1, unreadable: 1, activeKeyId: 'k2' });
    expect(await rotate(w)).toEqual({ resealed: 0, remaining: 1, unreadable: 1, activeKeyId: 'k2' });
    expect((await w.call(owner, `/api/v1/agents/${agentId}/conversations/${conversationId}`, { method: 'DELETE' })).status).toBe(204);
    expect(await rotate(w)).toEqual({ resealed: 0, remaining: 0, unreadable: 0, activeKeyId: 'k2' });
  });

  it('a transcript read while rotation is under way is re-sealed as it is read, and still reads once the old key is retired', async () => {
    const model = scriptedModel([{ text: 'sealed under the first key' }], stubRunner(() => ({ stdout: '' })).fetch);
    const under = (keys: string) => {
      // The Worker and the conversation objects run with the same VAULT_KEYS, as one deployment would.
      scriptConversationOutbound({ fetch: model.fetch, bindings: { VAULT_KEYS: keys } });
      return toolApp({ fetch: model.fetch, bindings: { ...LOCAL_EXECUTOR, VAULT_KEYS: keys } });
    };
    // Everything is under k2 by now (the tests above); this one rotates to k3.
    const agentId = await agentWithModel('rotation-lazy');
    const k2 = under(K2);
    const sent = await k2(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text: 'remember this' } });
    expect(sent.status).toBe(200);
    const { conversationId } = (await sent.json()) as { conversationId: string };
    const path = `/api/v1/agents/${agentId}/conversations/${conversationId}`;
    const before = ((await (await k2(owner, path)).json()) as { messages: unknown[] }).messages;
    expect(before).toEqual([
      { role: 'user', text: 'remember this' },
      { role: 'assistant', text: 'sealed under the first key' },
    ]);
    // k3 first (it seals), k2 kept (it opens): a read before the rotation call re-seals what it reads.
    const both = under(`${K3},${K2}`);
    expect(((await (await both(owner, path)).json()) as { messages: unknown[] }).messages).toEqual(before);
    expect(await sealedKeyIds(conversationId)).toEqual(['k3', 'k3']);
    const rotated = await both(owner, '/api/v1/admin/vault/rotate', { method: 'POST', body: {} });
    expect(((await rotated.json()) as Report).remaining).toBe(0);
    const k3Only = under(K3);
    expect(((await (await k3Only(owner, path)).json()) as { messages: unknown[] }).messages).toEqual(before);
  });

  it('conversation objects are rotated in bounded batches after the D1 rows; one not reached yet still counts', async () => {
    // Everything is under k3 by now; this one rotates to k4 through rotateVault itself, for maxBatches.
    const w = world([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
    w.under(K3);
    const agentId = await agentWithModel('rotation-batches');
    for (const text of ['one', 'two', 'three'])
      expect((await w.call(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text } })).status).toBe(200);
    const { results } = await env.DB.prepare('SELECT id FROM conversations ORDER BY id').all<{ id: string }>();
    const rowsOf = new Map<string, number>();
    for (const { id } of results) rowsOf.set(id, (await sealedKeyIds(id)).length);
    expect(results).toHaveLength(7);
    const total = [...rowsOf.values()].reduce((a, b) => a + b, 0);

    w.under(`${K4},${K3}`);
    const bindings = { ...withKeys(`${K4},${K3}`), CONVERSATION: env.CONVERSATION };
    const store = () => [conversationSealedStore(bindings)];
    const options = { batchSize: 2, maxBatches: 2, actor: 'system', now: T0 };
    // 1. The D1 rows take both batches: no object is reached, each counts as one.
    expect(await rotateVault(bindings, { ...options, sealedStores: store() })).toEqual({
      ok: true,
      value: { resealed: 3, remaining: 7, unreadable: 0, activeKeyId: 'k4' },
    });
    // 2. D1 is done: each batch visits objects (in id order) until about batchSize envelopes were re-sealed.
    const [a, b] = results.map((r) => r.id);
    const firstTwo = rowsOf.get(a!)! + rowsOf.get(b!)!;
    expect(await rotateVault(bindings, { ...options, sealedStores: store() })).toEqual({
      ok: true,
      value: { resealed: firstTwo, remaining: 5, unreadable: 0, activeKeyId: 'k4' },
    });
    expect(await sealedKeyIds(a!)).toEqual(Array(rowsOf.get(a!)).fill('k4'));
    expect(await sealedKeyIds(results[2]!.id)).toEqual(Array(rowsOf.get(results[2]!.id)).fill('k3'));
    // 3. The rest, then nothing.
    expect(await rotateVault(bindings, { actor: 'system', now: T0, sealedStores: store() })).toEqual({
      ok: true,
      value: { resealed: total - firstTwo, remaining: 0, unreadable: 0, activeKeyId: 'k4' },
    });
    expect(await rotateVault(bindings, { actor: 'system', now: T0, sealedStores: store() })).toEqual({
      ok: true,
      value: { resealed: 0, remaining: 0, unreadable: 0, activeKeyId: 'k4' },
    });
    for (const { id } of results) expect(await sealedKeyIds(id)).toEqual(Array(rowsOf.get(id)).fill('k4'));
  });

  it('a turn appending while the object re-seals loses nothing: both run in the object, every entry ends under the new key', async () => {
    // Everything is under k4 by now; this one rotates the object to k5 while its turn writes.
    const w = world([{ text: 'before the race' }]);
    w.under(K4);
    const agentId = await agentWithModel('rotation-race');
    const sent = await w.call(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text: 'start' } });
    const { conversationId } = (await sent.json()) as { conversationId: string };
    const workspaceId = (await env.DB.prepare('SELECT workspace_id AS w FROM agents WHERE id = ?').bind(agentId).first<{ w: string }>())!.w;
    const identity = { workspaceId, agentId, conversationId };
    // The turn takes its lease before the object has the new keyring (a read under it would re-seal lazily).
    const lease = await runInDurableObject(stubOf(conversationId), (instance) => instance.acquire(identity, 0, 60_000));
    if (!lease.ok) throw new Error('no lease');
    w.under(`${K5},${K4}`);
    const raced = await runInDurableObject(stubOf(conversationId), async (instance) => {
      // The turn's appends (one after another, as a turn makes them) and rotation's re-seal, started together.
      const turn = (async () => {
        for (let i = 0; i < 6; i++) await instance.append(identity, lease.token, [{ role: 'user', content: `racing ${i}` }]);
      })();
      const [rotation] = await Promise.all([instance.rotateSealed(identity, 'k5'), turn]);
      instance.release(lease.token);
      return rotation;
    });
    // The two entries under k4 were re-sealed; the six new ones were sealed under k5 already.
    expect(raced).toEqual({ resealed: 2, unreadable: 0, remaining: 0 });
    expect(await sealedKeyIds(conversationId)).toEqual(Array(8).fill('k5'));
    w.under(K5);
    const read = await w.call(owner, `/api/v1/agents/${agentId}/conversations/${conversationId}`);
    expect(((await read.json()) as { messages: Array<{ text: string }> }).messages.map((m) => m.text)).toEqual([
      'start',
      'before the race',
      ...Array.from({ length: 6 }, (_, i) => `racing ${i}`),
    ]);
  });

  it('a registered conversation whose object was never used is confirmed on its first visit, and visited again once it seals under another key', async () => {
    const w = world([{ text: 'answered on the old keyring' }]);
    w.under(`${K2},${K1}`);
    const agentId = await agentWithModel('rotation-never-used');
    const agent = await env.DB.prepare('SELECT workspace_id AS w FROM agents WHERE id = ?').bind(agentId).first<{ w: string }>();
    const row = await newRestConversation(createDb(env.DB), agent!.w, agentId, T0);
    const keyOf = async () =>
      (await env.DB.prepare('SELECT vault_key_id AS k FROM conversations WHERE id = ?').bind(row.id).first<{ k: string | null }>())?.k;
    const identity = { workspaceId: row.workspaceId, agentId, conversationId: row.id };
    expect(await keyOf()).toBeNull();
    // Nothing sealed, nothing left: confirmed, so later calls no longer visit it.
    expect(await stubOf(row.id).rotateSealed(identity, 'k2')).toEqual({ resealed: 0, unreadable: 0, remaining: 0 });
    expect(await keyOf()).toBe('k2');
    // Its first turn runs on an instance that still has k1 active: the confirmation is undone before anything is sealed.
    w.under(`${K2},${K1}`, `${K1},${K2}`);
    const used = await w.call(owner, `/api/v1/agents/${agentId}/messages`, {
      method: 'POST',
      body: { text: 'hi', conversationId: row.id },
    });
    expect(used.status).toBe(200);
    expect([await keyOf(), await sealedKeyIds(row.id)]).toEqual([null, ['k1', 'k1']]);
    w.under(`${K2},${K1}`);
    expect(await stubOf(row.id).rotateSealed(identity, 'k2')).toEqual({ resealed: 2, unreadable: 0, remaining: 0 });
    expect([await keyOf(), await sealedKeyIds(row.id)]).toEqual(['k2', ['k2', 'k2']]);
  });
});
