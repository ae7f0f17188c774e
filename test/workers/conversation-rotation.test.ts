import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptConversationOutbound } from './conversation-outbound';
import { asSession, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { MODEL_BASE, scriptedModel } from './scripted-model';
import { LOCAL_EXECUTOR, stubRunner, toolApp } from './tools-support';
import { K1, K2 } from './vault-support';

let owner: Session;

beforeAll(async () => {
  await setupInstance('Conversation rotation');
  owner = await login(OWNER.email, OWNER.password);
  expect(
    (await asSession(owner, '/api/v1/credentials/MODEL_KEY', { method: 'PUT', body: { value: 'sk-rotation-model-key-0123' } })).status,
  ).toBeLessThan(300);
});

afterAll(() => scriptConversationOutbound(null));

/** The key id each stored transcript entry (and the paused turn, if any) names. */
function sealedKeyIds(conversationId: string) {
  return runInDurableObject(env.CONVERSATION.get(env.CONVERSATION.idFromName(conversationId)), (_instance, state) =>
    state.storage.sql
      .exec<{ envelope: string }>("SELECT envelope FROM messages UNION ALL SELECT value AS envelope FROM meta WHERE key = 'paused'")
      .toArray()
      .map((r) => r.envelope.split('.')[1]),
  );
}

describe('vault key rotation and conversation transcripts', () => {
  it('a transcript sealed under k1 reads after k2 is added, is re-sealed under k2 as it is read, and still reads once k1 is retired', async () => {
    const model = scriptedModel([{ text: 'sealed under the first key' }], stubRunner(() => ({ stdout: '' })).fetch);
    const under = (keys: string) => {
      // The Worker and the conversation objects run with the same VAULT_KEYS, as one deployment would.
      scriptConversationOutbound({ fetch: model.fetch, bindings: { VAULT_KEYS: keys } });
      return toolApp({ fetch: model.fetch, bindings: { ...LOCAL_EXECUTOR, VAULT_KEYS: keys } });
    };
    const created = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'rotation-bot', isolation: 'sandbox' } });
    const { id: agentId } = (await created.json()) as { id: string };
    const settings = { provider: 'openai-compatible', model: 'scripted', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' };
    expect((await asSession(owner, `/api/v1/agents/${agentId}`, { method: 'PATCH', body: { model: settings } })).status).toBe(200);

    const k1 = under(K1);
    const sent = await k1(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text: 'remember this' } });
    expect(sent.status).toBe(200);
    const { conversationId } = (await sent.json()) as { conversationId: string };
    expect(await sealedKeyIds(conversationId)).toEqual(['k1', 'k1']);
    const path = `/api/v1/agents/${agentId}/conversations/${conversationId}`;
    const before = ((await (await k1(owner, path)).json()) as { messages: unknown[] }).messages;
    expect(before).toEqual([
      { role: 'user', text: 'remember this' },
      { role: 'assistant', text: 'sealed under the first key' },
    ]);

    // 1. k2 first (it seals), k1 kept (it opens); the vault's own rows are rotated by the rotation endpoint.
    const both = under(`${K2},${K1}`);
    const rotated = await both(owner, '/api/v1/admin/vault/rotate', { method: 'POST', body: {} });
    expect(rotated.status).toBe(200);
    expect(((await rotated.json()) as { remaining: number }).remaining).toBe(0);
    // 2. Reading the transcript re-seals it: every stored envelope now names k2.
    expect(((await (await both(owner, path)).json()) as { messages: unknown[] }).messages).toEqual(before);
    expect(await sealedKeyIds(conversationId)).toEqual(['k2', 'k2']);
    // 3. k1 retired: the transcript still reads, whole.
    const k2Only = under(K2);
    expect(((await (await k2Only(owner, path)).json()) as { messages: unknown[] }).messages).toEqual(before);
  });
});
