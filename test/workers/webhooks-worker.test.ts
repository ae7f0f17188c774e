/**
 * Discord and Telegram through the real Worker: connectors made through the REST API (secrets
 * in the vault), requests through the app's fetch with the real rate limiter, connector lookup,
 * WebhookDedupe object, audit log and no-runtime hand-off. Only the outbound fetch is injected
 * (there is no internet here), so the replies the gateway would send are captured.
 * Timestamps are relative to the real now; the app's clock is the real clock.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { bytesToHex } from '../../src/lib';
import { NO_RUNTIME_REPLY, type WebhookDedupe } from '../../src/webhooks';
import { expectError, expectSecurityHeaders, ORIGIN, send } from './helpers';
import { asSession, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';

const APPLICATION_ID = '123456789012345678';
const TELEGRAM_BOT_TOKEN = '123456789:AAwebhooksWorkerTestBotToken_0123456789';

let owner: Session;
let workspaceId: string;
let agentId: string;

const outbound: { url: string; body: unknown }[] = [];
const app = createApp({
  loginThrottle: testThrottle,
  fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
    outbound.push({ url: String(input), body: JSON.parse(String(init?.body)) });
    return Response.json({ ok: true });
  }) as typeof fetch,
});

let nextIp = 0;
/** Each hook request from its own address (TEST-NET-2), so the 60/min hook limit never decides a test here. */
function freshIp(): string {
  nextIp++;
  return `198.51.100.${nextIp}`;
}

/** One request through the app; returns after its background work (dedupe, hand-off, audit) has finished. */
async function deliver(path: string, init: { headers: Record<string, string>; body: string }) {
  const ip = freshIp();
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${ORIGIN}${path}`, { method: 'POST', headers: { 'CF-Connecting-IP': ip, ...init.headers }, body: init.body }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { res, ip };
}

async function createConnector(body: Record<string, unknown>) {
  const res = await asSession(owner, `/api/v1/agents/${agentId}/connectors`, { method: 'POST', body });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; webhookPath: string; publicKey: string | null; secretToken?: string };
}

/** Keys the connector's WebhookDedupe object holds, read from its own SQLite storage. */
async function dedupeKeys(platform: 'discord' | 'telegram', connectorId: string): Promise<string[]> {
  const stub = env.WEBHOOK_DEDUPE.get(env.WEBHOOK_DEDUPE.idFromName(`${platform}:${connectorId}`));
  return runInDurableObject(stub, (_instance: WebhookDedupe, state) =>
    state.storage.sql
      .exec<{ event_key: string }>('SELECT event_key FROM seen_events ORDER BY event_key')
      .toArray()
      .map((row) => row.event_key),
  );
}

/** The webhook.* audit rows about one connector, in chain order. */
async function auditFor(connectorId: string) {
  const { results } = await env.DB.prepare(
    "SELECT kind, actor, data FROM audit_events WHERE workspace_id = ? AND kind LIKE 'webhook.%' ORDER BY seq",
  )
    .bind(workspaceId)
    .all<{ kind: string; actor: string; data: string }>();
  return results
    .map((row) => ({ kind: row.kind, actor: row.actor, data: JSON.parse(row.data) as Record<string, unknown> }))
    .filter((row) => row.data.connectorId === connectorId);
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Hooks'));
  owner = await login(OWNER.email, OWNER.password);
  const res = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'hook-bot' } });
  agentId = ((await res.json()) as { id: string }).id;
});

describe('Discord through the real Worker (Ed25519 key pair made here)', () => {
  let keys: CryptoKeyPair;
  let connector: { id: string; webhookPath: string };

  beforeAll(async () => {
    keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const publicKey = bytesToHex(new Uint8Array((await crypto.subtle.exportKey('raw', keys.publicKey)) as ArrayBuffer));
    const created = await createConnector({ platform: 'discord', applicationId: APPLICATION_ID, publicKey: publicKey.toUpperCase() });
    expect(created.publicKey).toBe(publicKey);
    connector = created;
  });

  async function signed(body: string, options: { key?: CryptoKey; timestamp?: number } = {}) {
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const message = new TextEncoder().encode(timestamp + body);
    const signature = bytesToHex(new Uint8Array(await crypto.subtle.sign('Ed25519', options.key ?? keys.privateKey, message)));
    return { 'Content-Type': 'application/json', 'X-Signature-Ed25519': signature, 'X-Signature-Timestamp': timestamp };
  }

  const command = (id: string) =>
    JSON.stringify({
      id,
      type: 2,
      application_id: APPLICATION_ID,
      token: `interaction-token-${id}`,
      channel_id: '200000000000000001',
      guild_id: '300000000000000001',
      member: { user: { id: '400000000000000001', username: 'alice' } },
      data: { name: 'ask', options: [{ name: 'q', type: 3, value: 'hello' }] },
    });

  it('a signed PING through the Worker entry point gets PONG, and nothing is de-duplicated or audited', async () => {
    const body = JSON.stringify({ id: '500000000000000001', type: 1, application_id: APPLICATION_ID });
    const res = await send(connector.webhookPath, {
      method: 'POST',
      headers: { ...(await signed(body)), 'CF-Connecting-IP': freshIp() },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expectSecurityHeaders(res);
    expect(await res.text()).toBe('{"type":1}');
    expect(await dedupeKeys('discord', connector.id)).toEqual([]);
    expect(await auditFor(connector.id)).toEqual([]);
  });

  it('a signed command is deferred, de-duplicated, audited without its text and answered once on the follow-up webhook', async () => {
    const before = outbound.length;
    const body = command('500000000000000002');
    const headers = await signed(body);
    const first = await deliver(connector.webhookPath, { headers, body });
    expect(first.res.status).toBe(200);
    expect(await first.res.json()).toEqual({ type: 5 });
    // The same signed bytes again, inside the signature window: a replay.
    const replay = await deliver(connector.webhookPath, { headers, body });
    expect(replay.res.status).toBe(200);
    expect(await replay.res.json()).toEqual({ type: 5 });

    expect(await dedupeKeys('discord', connector.id)).toEqual(['interaction:500000000000000002']);
    expect(await auditFor(connector.id)).toEqual([
      {
        kind: 'webhook.accepted',
        actor: 'system',
        data: { platform: 'discord', connectorId: connector.id, agentId, conversationKey: 'discord:300000000000000001:200000000000000001' },
      },
      {
        kind: 'webhook.duplicate',
        actor: 'system',
        data: { platform: 'discord', connectorId: connector.id, eventKey: 'interaction:500000000000000002', retryNum: null },
      },
    ]);
    expect(outbound.slice(before)).toEqual([
      {
        url: `https://discord.com/api/v10/webhooks/${APPLICATION_ID}/interaction-token-500000000000000002`,
        body: { content: NO_RUNTIME_REPLY, allowed_mentions: { parse: [] }, flags: 4 },
      },
    ]);
  });

  // Every attempt carries a deliverable command with its own id, so a request that slipped past
  // verification would leave a dedupe key, a webhook.accepted row and an outbound reply.
  it.each([
    [
      'signed by another key',
      'bad-signature',
      async (body: string) =>
        signed(body, {
          key: ((await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair).privateKey,
        }),
    ],
    ['a body changed after signing', 'bad-signature', async (body: string) => signed(body.replace('hello', 'hellp'))],
    [
      'a timestamp 10 minutes old (correctly signed)',
      'stale-timestamp',
      async (body: string) => signed(body, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
    ],
    [
      'a timestamp 10 minutes ahead (correctly signed)',
      'stale-timestamp',
      async (body: string) => signed(body, { timestamp: Math.floor(Date.now() / 1000) + 600 }),
    ],
    ['no signature headers', 'missing-headers', async () => ({ 'Content-Type': 'application/json' })],
    [
      'a signature over the body alone',
      'bad-signature',
      async (body: string) => {
        const headers = await signed(body);
        const bare = new Uint8Array(await crypto.subtle.sign('Ed25519', keys.privateKey, new TextEncoder().encode(body)));
        return { ...headers, 'X-Signature-Ed25519': bytesToHex(bare) };
      },
    ],
  ])('refuses %s with 401; nothing de-duplicated, delivered or replied; the reason is audited', async (_label, reason, headersFor) => {
    const id = `6000000000000000${String(nextIp).padStart(2, '0')}`;
    const body = command(id);
    const before = outbound.length;
    const auditBefore = (await auditFor(connector.id)).length;
    const { res, ip } = await deliver(connector.webhookPath, { headers: await headersFor(body), body });
    await expectError(res, 401, 'UNAUTHENTICATED');
    expect(await dedupeKeys('discord', connector.id)).not.toContain(`interaction:${id}`);
    expect(await dedupeKeys('discord', connector.id)).toEqual(['interaction:500000000000000002']);
    expect(outbound.slice(before)).toEqual([]);
    expect((await auditFor(connector.id)).slice(auditBefore)).toEqual([
      { kind: 'webhook.rejected', actor: `ip:${ip}`, data: { platform: 'discord', connectorId: connector.id, reason } },
    ]);
  });
});

describe('Discord: a valid signature does not make anything else acceptable', () => {
  let keys: CryptoKeyPair;
  let connector: { id: string; webhookPath: string };

  beforeAll(async () => {
    keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const publicKey = bytesToHex(new Uint8Array((await crypto.subtle.exportKey('raw', keys.publicKey)) as ArrayBuffer));
    connector = await createConnector({ platform: 'discord', applicationId: APPLICATION_ID, publicKey });
  });

  async function signedHeaders(body: string) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = bytesToHex(
      new Uint8Array(await crypto.subtle.sign('Ed25519', keys.privateKey, new TextEncoder().encode(timestamp + body))),
    );
    return { 'Content-Type': 'application/json', 'X-Signature-Ed25519': signature, 'X-Signature-Timestamp': timestamp };
  }

  it.each([
    ['an unknown interaction type', JSON.stringify({ id: '700000000000000001', type: 99, application_id: APPLICATION_ID })],
    [
      'a command without its interaction token',
      JSON.stringify({ id: '700000000000000002', type: 2, application_id: APPLICATION_ID, channel_id: '1', user: { id: '2' } }),
    ],
    ['bytes that are not JSON', '{"id":"700000000000000003","type":2'],
  ])('a signed body with %s is 400; nothing de-duplicated or replied; malformed-payload audited', async (_label, body) => {
    const before = outbound.length;
    const auditBefore = (await auditFor(connector.id)).length;
    const { res, ip } = await deliver(connector.webhookPath, { headers: await signedHeaders(body), body });
    await expectError(res, 400, 'VALIDATION_ERROR');
    expect(await dedupeKeys('discord', connector.id)).toEqual([]);
    expect(outbound.slice(before)).toEqual([]);
    expect((await auditFor(connector.id)).slice(auditBefore)).toEqual([
      {
        kind: 'webhook.rejected',
        actor: `ip:${ip}`,
        data: { platform: 'discord', connectorId: connector.id, reason: 'malformed-payload' },
      },
    ]);
  });

  it("a Discord connector's id under another platform's path is the generic 404, and nothing is audited", async () => {
    const body = JSON.stringify({
      update_id: 1,
      message: { message_id: 1, chat: { id: 1, type: 'private' }, from: { id: 1, is_bot: false }, text: 'hi' },
    });
    const auditBefore = (await auditFor(connector.id)).length;
    for (const platform of ['telegram', 'slack']) {
      const { res } = await deliver(`/hooks/${platform}/${connector.id}`, {
        headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'anything' },
        body,
      });
      await expectError(res, 404, 'NOT_FOUND');
    }
    expect((await auditFor(connector.id)).slice(auditBefore)).toEqual([]);
    expect(await dedupeKeys('discord', connector.id)).toEqual([]);
  });
});

describe('Telegram through the real Worker', () => {
  let connector: { id: string; webhookPath: string; secretToken: string };

  beforeAll(async () => {
    const created = await createConnector({ platform: 'telegram', botToken: TELEGRAM_BOT_TOKEN });
    if (!created.secretToken) throw new Error('the gateway generates a secret token when none is given');
    connector = { id: created.id, webhookPath: created.webhookPath, secretToken: created.secretToken };
  });

  const update = (updateId: number, from: { id: number; is_bot: boolean }) =>
    JSON.stringify({
      update_id: updateId,
      message: { message_id: 70 + updateId, chat: { id: 9001, type: 'private' }, from, text: 'secret plans' },
    });

  it('the generated secret token opens the hook: 200, de-duplicated, audited without the text, answered once', async () => {
    const before = outbound.length;
    const body = update(1, { id: 9001, is_bot: false });
    const headers = { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': connector.secretToken };
    const first = await deliver(connector.webhookPath, { headers, body });
    expect(first.res.status).toBe(200);
    expect(await first.res.text()).toBe('');
    const retry = await deliver(connector.webhookPath, { headers, body });
    expect(retry.res.status).toBe(200);

    expect(await dedupeKeys('telegram', connector.id)).toEqual(['update:1']);
    const audit = await auditFor(connector.id);
    expect(audit).toEqual([
      {
        kind: 'webhook.accepted',
        actor: 'system',
        data: { platform: 'telegram', connectorId: connector.id, agentId, conversationKey: 'telegram:9001' },
      },
      {
        kind: 'webhook.duplicate',
        actor: 'system',
        data: { platform: 'telegram', connectorId: connector.id, eventKey: 'update:1', retryNum: null },
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain('secret plans');
    expect(outbound.slice(before)).toEqual([
      {
        url: `https://api.telegram.org/bot${TELEGRAM_BOT_TOKEN}/sendMessage`,
        body: {
          chat_id: 9001,
          text: NO_RUNTIME_REPLY,
          reply_parameters: { message_id: 71, allow_sending_without_reply: true },
          link_preview_options: { is_disabled: true },
        },
      },
    ]);
  });

  it.each([
    ['no secret header', 'missing-secret', (_token: string) => ({})],
    ['an empty secret header', 'missing-secret', (_token: string) => ({ 'X-Telegram-Bot-Api-Secret-Token': '' })],
    [
      'the token in another case',
      'wrong-secret',
      (token: string) => ({ 'X-Telegram-Bot-Api-Secret-Token': token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase() }),
    ],
    [
      'the token without its last character',
      'wrong-secret',
      (token: string) => ({ 'X-Telegram-Bot-Api-Secret-Token': token.slice(0, -1) }),
    ],
    ['the token with one more character', 'wrong-secret', (token: string) => ({ 'X-Telegram-Bot-Api-Secret-Token': `${token}A` })],
    [
      'the bot token instead of the secret token',
      'wrong-secret',
      (_token: string) => ({ 'X-Telegram-Bot-Api-Secret-Token': TELEGRAM_BOT_TOKEN }),
    ],
  ])('refuses %s with 401; nothing de-duplicated, delivered or replied; the reason is audited', async (_label, reason, headerFor) => {
    const updateId = 100 + nextIp;
    const before = outbound.length;
    const auditBefore = (await auditFor(connector.id)).length;
    const { res, ip } = await deliver(connector.webhookPath, {
      headers: { 'Content-Type': 'application/json', ...headerFor(connector.secretToken) },
      body: update(updateId, { id: 9001, is_bot: false }),
    });
    await expectError(res, 401, 'UNAUTHENTICATED');
    expect(await dedupeKeys('telegram', connector.id)).toEqual(['update:1']);
    expect(outbound.slice(before)).toEqual([]);
    expect((await auditFor(connector.id)).slice(auditBefore)).toEqual([
      { kind: 'webhook.rejected', actor: `ip:${ip}`, data: { platform: 'telegram', connectorId: connector.id, reason } },
    ]);
  });

  it("another connector's valid secret token does not open this one", async () => {
    const other = await createConnector({ platform: 'telegram', botToken: TELEGRAM_BOT_TOKEN, secretToken: 'other-connector-secret_0123' });
    const before = outbound.length;
    const { res } = await deliver(connector.webhookPath, {
      headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'other-connector-secret_0123' },
      body: update(150, { id: 9001, is_bot: false }),
    });
    await expectError(res, 401, 'UNAUTHENTICATED');
    expect(await dedupeKeys('telegram', connector.id)).toEqual(['update:1']);
    expect(await dedupeKeys('telegram', other.id)).toEqual([]);
    expect(outbound.slice(before)).toEqual([]);
  });

  it('a message from a bot is acknowledged and de-duplicated but never delivered or answered (no bot loops)', async () => {
    const before = outbound.length;
    const auditBefore = (await auditFor(connector.id)).length;
    const { res } = await deliver(connector.webhookPath, {
      headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': connector.secretToken },
      body: update(200, { id: 777, is_bot: true }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(await dedupeKeys('telegram', connector.id)).toEqual(['update:1', 'update:200']);
    expect((await auditFor(connector.id)).slice(auditBefore)).toEqual([]);
    expect(outbound.slice(before)).toEqual([]);
  });
});
