import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { clientIp, cors, createRouter, handleError, notFoundOrMethodNotAllowed, requestId, securityHeaders } from '../../src/http';
import { bytesToHex, hexToBytes, utf8 } from '../../src/lib';
import { ED25519_L, slackV0Mac, webhookRoutes, type ConnectorRecord, type InboundMessage, type Platform } from '../../src/webhooks';
import rfc8032 from '../fixtures/webhooks/ed25519-rfc8032.json';
import { aheadOfRealNow } from './clock';
import { expectError, expectSecurityHeaders, ORIGIN } from './helpers';

ed.hashes.sha512 = sha512;

const NOW = aheadOfRealNow();
const TS = String(NOW / 1000);
const DISCORD_KEY = rfc8032.tests[0]!;
const OTHER_KEY = rfc8032.tests[1]!;
const SLACK_SECRET = 'slack-signing-secret-for-tests';
const TELEGRAM_SECRET = 'Tg_secret-TOKEN_0123456789';

/** In-memory stand-in for the connector table: the routes see only the lookup function. */
const connectors = new Map<string, ConnectorRecord & { deleted?: boolean }>([
  ['dc_live', { platform: 'discord', agentId: 'agt_d', workspaceId: 'ws_discord', secrets: { publicKey: DISCORD_KEY.publicKey } }],
  [
    'dc_deleted',
    { platform: 'discord', agentId: 'agt_d', workspaceId: 'ws_discord', secrets: { publicKey: DISCORD_KEY.publicKey }, deleted: true },
  ],
  [
    'sl_live',
    {
      platform: 'slack',
      agentId: 'agt_s',
      workspaceId: 'ws_slack',
      secrets: { signingSecret: SLACK_SECRET, botToken: 'xoxb-1-abcdefghijkl' },
    },
  ],
  [
    'tg_live',
    {
      platform: 'telegram',
      agentId: 'agt_t',
      workspaceId: 'ws_telegram',
      secrets: { secretToken: TELEGRAM_SECRET, botToken: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi' },
    },
  ],
]);
let lookups: [Platform, string][] = [];
let delivered: InboundMessage[] = [];

async function lookup(_env: unknown, platform: Platform, connectorId: string) {
  lookups.push([platform, connectorId]);
  const record = connectors.get(connectorId);
  return record && !record.deleted ? record : null;
}

function buildApp() {
  const app = createRouter();
  app.use('*', requestId(), securityHeaders(), cors(), clientIp());
  app.route(
    '/',
    webhookRoutes({
      lookup,
      deliverInbound: async (message) => {
        delivered.push(message);
      },
      clock: () => NOW,
    }),
  );
  app.onError(handleError);
  app.notFound(notFoundOrMethodNotAllowed(app));
  return app;
}
const app = buildApp();

/** Sends through the mounted routes and waits for the background hand-off to finish. */
async function hook(path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.request(
    `${ORIGIN}${path}`,
    { method: 'POST', headers: { 'CF-Connecting-IP': '203.0.113.9', ...headers }, body },
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function auditRows(workspaceId: string): Promise<{ kind: string; actor: string; data: Record<string, unknown> }[]> {
  const { results } = await env.DB.prepare('SELECT kind, actor, data FROM audit_events WHERE workspace_id = ? ORDER BY seq')
    .bind(workspaceId)
    .all<{ kind: string; actor: string; data: string }>();
  return results.map((row) => ({ kind: row.kind, actor: row.actor, data: JSON.parse(row.data) as Record<string, unknown> }));
}

function discordHeaders(body: string, timestamp = TS, secretKey = DISCORD_KEY.secretKey): Record<string, string> {
  const signature = ed.sign(utf8(timestamp + body), hexToBytes(secretKey) as Uint8Array);
  return { 'Content-Type': 'application/json', 'X-Signature-Ed25519': bytesToHex(signature), 'X-Signature-Timestamp': timestamp };
}

async function slackHeaders(body: string, timestamp = TS, secret = SLACK_SECRET): Promise<Record<string, string>> {
  const mac = await slackV0Mac(secret, timestamp, utf8(body));
  return { 'Content-Type': 'application/json', 'X-Slack-Signature': `v0=${bytesToHex(mac)}`, 'X-Slack-Request-Timestamp': timestamp };
}

const PING = rfc8032.discordStyle.body;
const command = (id: string) =>
  JSON.stringify({
    id,
    application_id: '111111111111111111',
    type: 2,
    token: 'interaction-token-secret',
    channel_id: '222222222222222222',
    guild_id: '333333333333333333',
    member: { user: { id: '444444444444444444', username: 'ada', global_name: 'Ada' } },
    data: { name: 'ask', options: [{ name: 'question', type: 3, value: 'what is the weather?' }] },
  });
/** A message ts of its own per event id: Slack de-duplicates on channel + ts, so two tests must not share one. */
const tsOf = (eventId: string) =>
  `1531420618.${String([...eventId].reduce((acc, ch) => (acc * 31 + ch.charCodeAt(0)) % 1_000_000, 0)).padStart(6, '0')}`;
const slackEvent = (eventId: string, event: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'event_callback',
    team_id: 'T1DC2JH3J',
    event_id: eventId,
    event: { type: 'message', user: 'U2CERLKJA', text: 'hello agent', channel: 'C0123', ts: tsOf(eventId), ...event },
  });
const telegramUpdate = (updateId: number, text = 'hi bot') =>
  JSON.stringify({
    update_id: updateId,
    message: { message_id: 7, chat: { id: -100123, type: 'group' }, from: { id: 42, is_bot: false, username: 'ada' }, text },
  });

beforeEach(() => {
  lookups = [];
  delivered = [];
});

describe('POST /hooks/discord/:connectorId', () => {
  it('answers a signed PING with 200 {"type":1} as application/json and hands nothing off', async () => {
    const res = await hook('/hooks/discord/dc_live', PING, discordHeaders(PING));
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(await res.text()).toBe('{"type":1}');
    expectSecurityHeaders(res);
    expect(delivered).toEqual([]);
  });

  it('defers an application command with {"type":5} and hands one InboundMessage off after the acknowledgement', async () => {
    const body = command('900000000000000001');
    const res = await hook('/hooks/discord/dc_live', body, discordHeaders(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 5 });
    expect(delivered).toEqual([
      {
        platform: 'discord',
        connectorId: 'dc_live',
        agentId: 'agt_d',
        conversationKey: 'discord:333333333333333333:222222222222222222',
        sender: { id: '444444444444444444', name: 'Ada' },
        text: 'what is the weather?',
        replyHandle: {
          platform: 'discord',
          applicationId: '111111111111111111',
          interactionToken: 'interaction-token-secret',
          interactionAt: NOW,
        },
      },
    ]);
  });

  it('processes a replayed interaction (same id, still inside the signature window) only once', async () => {
    const body = command('900000000000000002');
    const headers = discordHeaders(body);
    expect((await hook('/hooks/discord/dc_live', body, headers)).status).toBe(200);
    expect((await hook('/hooks/discord/dc_live', body, headers)).status).toBe(200);
    expect(delivered).toHaveLength(1);
    const duplicates = (await auditRows('ws_discord')).filter((row) => row.kind === 'webhook.duplicate');
    expect(duplicates.at(-1)?.data).toEqual({
      platform: 'discord',
      connectorId: 'dc_live',
      eventKey: 'interaction:900000000000000002',
      retryNum: null,
    });
  });

  const body = command('900000000000000003');
  const good = discordHeaders(body);
  const s =
    [...(hexToBytes(good['X-Signature-Ed25519']!.slice(64)) as Uint8Array)].reverse().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n) +
    ED25519_L;
  const sPlusL =
    good['X-Signature-Ed25519']!.slice(0, 64) + bytesToHex(Uint8Array.from({ length: 32 }, (_, i) => Number((s >> BigInt(8 * i)) & 0xffn)));
  const attacks: [string, string, Record<string, string>, string][] = [
    ['a signature from a different key', body, discordHeaders(body, TS, OTHER_KEY.secretKey), 'bad-signature'],
    ['a changed body', body.replace('weather', 'wallet'), good, 'bad-signature'],
    ['a changed timestamp', body, { ...good, 'X-Signature-Timestamp': String(Number(TS) - 1) }, 'bad-signature'],
    ['missing headers', body, { 'Content-Type': 'application/json' }, 'missing-headers'],
    [
      'an odd-length signature',
      body,
      { ...good, 'X-Signature-Ed25519': good['X-Signature-Ed25519']!.slice(0, 127) },
      'malformed-signature',
    ],
    ['S + L (malleated signature)', body, { ...good, 'X-Signature-Ed25519': sPlusL }, 'non-canonical-s'],
    ['a stale timestamp (signed 6 minutes ago)', body, discordHeaders(body, String(Number(TS) - 360)), 'stale-timestamp'],
  ];
  it.each(attacks)('refuses %s with 401, runs nothing, and audits the internal reason', async (_label, payload, headers, reason) => {
    const before = (await auditRows('ws_discord')).length;
    const res = await hook('/hooks/discord/dc_live', payload, headers);
    const error = await expectError(res, 401, 'UNAUTHENTICATED');
    expect(JSON.stringify(error)).not.toContain(reason);
    expect(delivered).toEqual([]);
    const rows = await auditRows('ws_discord');
    expect(rows.slice(before)).toEqual([
      { kind: 'webhook.rejected', actor: 'ip:203.0.113.9', data: { platform: 'discord', connectorId: 'dc_live', reason } },
    ]);
  });

  it('left no trace of the refused attempts in the dedupe window: the genuine interaction is still first-seen', async () => {
    const res = await hook('/hooks/discord/dc_live', body, good);
    expect(await res.json()).toEqual({ type: 5 });
    expect(delivered).toHaveLength(1);
  });

  it('verifies before it parses: an unsigned body that is not even JSON gets 401, not 400', async () => {
    for (const path of ['/hooks/discord/dc_live', '/hooks/slack/sl_live', '/hooks/telegram/tg_live']) {
      await expectError(await hook(path, '{not json', { 'Content-Type': 'application/json' }), 401, 'UNAUTHENTICATED');
    }
    expect(delivered).toEqual([]);
  });

  it('refuses a signed body that is not an interaction with 400 and hands nothing off', async () => {
    const junk = '{"type":"not-a-number"}';
    await expectError(await hook('/hooks/discord/dc_live', junk, discordHeaders(junk)), 400, 'VALIDATION_ERROR');
    await expectError(await hook('/hooks/discord/dc_live', 'not json', discordHeaders('not json')), 400, 'VALIDATION_ERROR');
    expect(delivered).toEqual([]);
  });
});

describe('POST /hooks/slack/:connectorId', () => {
  it('answers a signed url_verification with the challenge', async () => {
    const body = JSON.stringify({
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const res = await hook('/hooks/slack/sl_live', body, await slackHeaders(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    expect(delivered).toEqual([]);
  });

  it('acknowledges event_callback with 200 at once and hands the message off', async () => {
    const body = slackEvent('Ev0001');
    const res = await hook('/hooks/slack/sl_live', body, await slackHeaders(body));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(delivered).toEqual([
      {
        platform: 'slack',
        connectorId: 'sl_live',
        agentId: 'agt_s',
        conversationKey: `slack:T1DC2JH3J:C0123:${tsOf('Ev0001')}`,
        sender: { id: 'U2CERLKJA' },
        text: 'hello agent',
        replyHandle: { platform: 'slack', channel: 'C0123', threadTs: tsOf('Ev0001') },
      },
    ]);
  });

  it('acknowledges retries (X-Slack-Retry-Num) and duplicate event_ids but processes the event once', async () => {
    const body = slackEvent('Ev0002');
    expect((await hook('/hooks/slack/sl_live', body, await slackHeaders(body))).status).toBe(200);
    const retry = await hook('/hooks/slack/sl_live', body, {
      ...(await slackHeaders(body, String(Number(TS) + 60))),
      'X-Slack-Retry-Num': '1',
      'X-Slack-Retry-Reason': 'http_timeout',
    });
    expect(retry.status).toBe(200);
    // A different envelope carrying the same event_id is the same event.
    const again = slackEvent('Ev0002', { text: 'changed' });
    expect((await hook('/hooks/slack/sl_live', again, await slackHeaders(again))).status).toBe(200);
    expect(delivered).toHaveLength(1);
    const duplicates = (await auditRows('ws_slack')).filter((row) => row.kind === 'webhook.duplicate').map((row) => row.data.retryNum);
    expect(duplicates.slice(-2)).toEqual([1, null]);
  });

  it('acknowledges but never hands off bot messages and edits (no bot-to-bot loops)', async () => {
    for (const [id, extra] of [
      ['Ev0003', { bot_id: 'B123' }],
      ['Ev0004', { subtype: 'message_changed' }],
      ['Ev0005', { subtype: 'bot_message' }],
      ['Ev0006', { subtype: 'channel_join' }],
      ['Ev0007', { type: 'app_mention', bot_id: 'B123' }],
    ] as const) {
      const body = slackEvent(id, extra);
      expect((await hook('/hooks/slack/sl_live', body, await slackHeaders(body))).status).toBe(200);
    }
    expect(delivered).toEqual([]);
  });

  it.each([
    ['a stale timestamp', async (b: string) => slackHeaders(b, String(Number(TS) - 301)), 'stale-timestamp'],
    [
      'a non-numeric timestamp',
      async (b: string) => ({ ...(await slackHeaders(b)), 'X-Slack-Request-Timestamp': 'now' }),
      'malformed-timestamp',
    ],
    ['the wrong signing secret', async (b: string) => slackHeaders(b, TS, 'another-secret'), 'bad-signature'],
    ['no signature', async () => ({ 'X-Slack-Request-Timestamp': TS }), 'missing-headers'],
  ] as const)('refuses %s with 401 and hands nothing off', async (_label, makeHeaders, reason) => {
    const body = slackEvent(`EvAttack${reason}`);
    const before = (await auditRows('ws_slack')).length;
    await expectError(await hook('/hooks/slack/sl_live', body, await makeHeaders(body)), 401, 'UNAUTHENTICATED');
    expect(delivered).toEqual([]);
    expect((await auditRows('ws_slack')).slice(before).map((row) => row.data.reason)).toEqual([reason]);
  });
});

describe('POST /hooks/telegram/:connectorId', () => {
  const secret = { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': TELEGRAM_SECRET };

  it('accepts the right secret token and hands the message off; a duplicate update_id is acknowledged, not processed', async () => {
    const body = telegramUpdate(5001);
    expect((await hook('/hooks/telegram/tg_live', body, secret)).status).toBe(200);
    expect((await hook('/hooks/telegram/tg_live', body, secret)).status).toBe(200);
    expect(delivered).toEqual([
      {
        platform: 'telegram',
        connectorId: 'tg_live',
        agentId: 'agt_t',
        conversationKey: 'telegram:-100123',
        sender: { id: '42', name: 'ada' },
        text: 'hi bot',
        replyHandle: { platform: 'telegram', chatId: -100123, replyToMessageId: 7 },
      },
    ]);
  });

  it.each([
    ['missing', undefined, 'missing-secret', 6001],
    ['wrong', 'Tg_secret-TOKEN_0123456780', 'wrong-secret', 6002],
    ['right but differently cased', TELEGRAM_SECRET.toLowerCase(), 'wrong-secret', 6003],
  ] as const)('refuses a %s secret token with 401 and processes nothing', async (_label, token, reason, updateId) => {
    const before = (await auditRows('ws_telegram')).length;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      ...(token === undefined ? {} : { 'X-Telegram-Bot-Api-Secret-Token': token }),
    };
    await expectError(await hook('/hooks/telegram/tg_live', telegramUpdate(updateId), headers), 401, 'UNAUTHENTICATED');
    expect(delivered).toEqual([]);
    expect((await auditRows('ws_telegram')).slice(before).map((row) => row.data.reason)).toEqual([reason]);
    // The refused update did not enter the dedupe window: the genuine delivery still counts.
    expect((await hook('/hooks/telegram/tg_live', telegramUpdate(updateId), secret)).status).toBe(200);
    expect(delivered).toHaveLength(1);
  });
});

describe('hook routes: existence is never leaked', () => {
  async function genericNotFound() {
    const res = await app.request(`${ORIGIN}/no/such/path`, { method: 'POST' }, env, createExecutionContext());
    const { requestId: _ignored, ...rest } = await expectError(res, 404, 'NOT_FOUND');
    return rest;
  }

  it.each([
    ['an unknown connector', '/hooks/discord/dc_nope'],
    ["another platform's connector", '/hooks/discord/sl_live'],
    ['a deleted connector', '/hooks/discord/dc_deleted'],
    ['a telegram path for a discord connector', '/hooks/telegram/dc_live'],
    ['a malformed connector id', '/hooks/slack/..%2F..%2Fetc'],
  ])('answers %s with the same 404 as any other path', async (_label, path) => {
    const expected = await genericNotFound();
    const res = await hook(path, PING, discordHeaders(PING));
    const { requestId: _ignored, ...rest } = await expectError(res, 404, 'NOT_FOUND');
    expect(rest).toEqual(expected);
    expect(delivered).toEqual([]);
  });

  it('refuses a body over 1 MiB with 413 before verifying or handing off anything', async () => {
    const big = `{"pad":"${'a'.repeat(1024 * 1024)}"}`;
    await expectError(await hook('/hooks/slack/sl_live', big, await slackHeaders(big)), 413, 'PAYLOAD_TOO_LARGE');
    expect(delivered).toEqual([]);
  });

  it('looks the connector up before reading the body: an oversized body for an unknown connector is the generic 404', async () => {
    const big = `{"pad":"${'a'.repeat(1024 * 1024)}"}`;
    await expectError(await hook('/hooks/slack/sl_nope', big, await slackHeaders(big)), 404, 'NOT_FOUND');
    expect(lookups).toEqual([['slack', 'sl_nope']]);
  });

  it('refuses a streamed body over 1 MiB without Content-Length with 413 (the cap counts bytes, not headers)', async () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 * 1024 * 1024) return controller.close();
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const headers = await slackHeaders('{}');
    const ctx = createExecutionContext();
    const res = await app.request(
      `${ORIGIN}/hooks/slack/sl_live`,
      { method: 'POST', headers, body: stream, duplex: 'half' } as RequestInit,
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(delivered).toEqual([]);
  });

  it('answers other methods on a hook path with 405', async () => {
    const res = await app.request(`${ORIGIN}/hooks/slack/sl_live`, { method: 'GET' }, env, createExecutionContext());
    await expectError(res, 405, 'METHOD_NOT_ALLOWED');
    expect(lookups).toEqual([]);
  });
});

describe('the acknowledgement never waits for the hand-off', () => {
  it.each([
    ['discord', 'dc_live', () => command('900000000000000099'), (b: string) => Promise.resolve(discordHeaders(b)), '{"type":5}'],
    ['slack', 'sl_live', () => slackEvent('EvHandoff1'), slackHeaders, ''],
    [
      'telegram',
      'tg_live',
      () => telegramUpdate(7001),
      () => Promise.resolve({ 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': TELEGRAM_SECRET }),
      '',
    ],
  ] as const)(
    '%s: the 200 is out while deliverInbound(message, env, record) is still pending; it then gets the looked-up record',
    async (platform, id, makeBody, makeHeaders, answer) => {
      let release: () => void = () => undefined;
      const handedOff: { message: InboundMessage; record: ConnectorRecord }[] = [];
      const gated = createRouter();
      gated.use('*', requestId(), clientIp());
      gated.route(
        '/',
        webhookRoutes({
          lookup,
          deliverInbound: (message, _env, record) => {
            handedOff.push({ message, record });
            return new Promise<void>((resolve) => (release = resolve));
          },
          clock: () => NOW,
        }),
      );
      gated.onError(handleError);
      const body = makeBody();
      const ctx = createExecutionContext();
      const res = await gated.request(
        `${ORIGIN}/hooks/${platform}/${id}`,
        { method: 'POST', headers: await makeHeaders(body), body },
        env,
        ctx,
      );
      // The response is complete although the hand-off has not finished (it cannot: it waits for release()).
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(answer);
      await vi.waitFor(() => expect(handedOff).toHaveLength(1));
      release();
      await waitOnExecutionContext(ctx);
      expect(handedOff[0]?.message.platform).toBe(platform);
      expect(handedOff[0]?.record).toBe(connectors.get(id));
    },
  );
});
