/**
 * Slack through the real Worker: a connector made through the REST API (signing secret and
 * bot token in the vault), requests through the app with the real rate limiter, lookup,
 * WebhookDedupe object, audit log and no-runtime hand-off. Only the outbound fetch is
 * injected, so the replies the gateway sends are captured in Slack's API shape.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { bytesToHex, utf8 } from '../../src/lib';
import { NO_RUNTIME_REPLY, parseSlackForm, slackV0Mac, type WebhookDedupe } from '../../src/webhooks';
import slackSigning from '../fixtures/webhooks/slack-signing.json';
import { expectError, ORIGIN } from './helpers';
import { asSession, login, OWNER, setupInstance, testThrottle } from './identity-helpers';

const SIGNING_SECRET = 'slack-e2e-signing-secret-0123456789';
const BOT_TOKEN = 'xoxb-3333-4444-slackEndToEndBotToken';
const RESPONSE_URL = 'https://hooks.slack.com/commands/T1DC2JH3J/1335177245008/aBcDeFgHiJkLmNoPqRsTuVwX';

const outbound: { url: string; authorization: string | null; body: unknown }[] = [];
const app = createApp({
  loginThrottle: testThrottle,
  fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
    outbound.push({
      url: String(input),
      authorization: new Headers(init?.headers).get('Authorization'),
      body: JSON.parse(String(init?.body)) as unknown,
    });
    return String(input).startsWith('https://hooks.slack.com/') ? new Response('ok') : Response.json({ ok: true });
  }) as typeof fetch,
});

let workspaceId: string;
let agentId: string;
let connectorId: string;
let nextIp = 0;

async function post(body: string, headers: Record<string, string>) {
  nextIp++;
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${ORIGIN}/hooks/slack/${connectorId}`, {
      method: 'POST',
      headers: { 'CF-Connecting-IP': `198.18.9.${nextIp}`, ...headers },
      body,
    }),
    env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function signed(body: string, contentType: string, secret = SIGNING_SECRET) {
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = await slackV0Mac(secret, ts, utf8(body));
  return { 'Content-Type': contentType, 'X-Slack-Signature': `v0=${bytesToHex(mac)}`, 'X-Slack-Request-Timestamp': ts };
}
const json = (body: string) => signed(body, 'application/json');
const form = (body: string) => signed(body, 'application/x-www-form-urlencoded');

const event = (eventId: string, type: 'message' | 'app_mention', ts: string, text = 'hello agent') =>
  JSON.stringify({
    type: 'event_callback',
    team_id: 'T1DC2JH3J',
    event_id: eventId,
    event: { type, user: 'U2CERLKJA', text, channel: 'C0123', ts },
  });

/** A slash command as Slack encodes it (application/x-www-form-urlencoded). */
function command(triggerId: string, overrides: Record<string, string> = {}): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T1DC2JH3J',
    team_domain: 'example',
    channel_id: 'C0123',
    channel_name: 'general',
    user_id: 'U2CERLKJA',
    user_name: 'ada',
    command: '/ask',
    text: 'what is the weather?',
    api_app_id: 'A0123',
    response_url: RESPONSE_URL,
    trigger_id: triggerId,
    ...overrides,
  }).toString();
}

async function webhookAudit() {
  const { results } = await env.DB.prepare(
    "SELECT kind, actor, data FROM audit_events WHERE workspace_id = ? AND kind LIKE 'webhook.%' ORDER BY seq",
  )
    .bind(workspaceId)
    .all<{ kind: string; actor: string; data: string }>();
  return results.map((row) => ({ kind: row.kind, data: JSON.parse(row.data) as Record<string, unknown> }));
}

async function dedupeKeys(): Promise<string[]> {
  const stub = env.WEBHOOK_DEDUPE.get(env.WEBHOOK_DEDUPE.idFromName(`slack:${connectorId}`));
  return runInDurableObject(stub, (_instance: WebhookDedupe, state) =>
    state.storage.sql
      .exec<{ event_key: string }>('SELECT event_key FROM seen_events ORDER BY event_key')
      .toArray()
      .map((row) => row.event_key),
  );
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Slack hooks'));
  const owner = await login(OWNER.email, OWNER.password);
  const agent = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'slack-bot' } });
  agentId = ((await agent.json()) as { id: string }).id;
  const created = await asSession(owner, `/api/v1/agents/${agentId}/connectors`, {
    method: 'POST',
    body: { platform: 'slack', signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN },
  });
  expect(created.status).toBe(201);
  connectorId = ((await created.json()) as { id: string }).id;
});

describe('Slack events through the real Worker', () => {
  it('a message event: one hand-off and one chat.postMessage in the thread, in Slack API shape', async () => {
    outbound.length = 0;
    const before = (await webhookAudit()).length;
    const body = event('EvE2E1', 'message', '1700000001.000100');
    const res = await post(body, await json(body));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect((await webhookAudit()).slice(before)).toEqual([
      {
        kind: 'webhook.accepted',
        data: { platform: 'slack', connectorId, agentId, conversationKey: 'slack:T1DC2JH3J:C0123:1700000001.000100' },
      },
    ]);
    expect(outbound).toEqual([
      {
        url: 'https://slack.com/api/chat.postMessage',
        authorization: `Bearer ${BOT_TOKEN}`,
        body: { channel: 'C0123', thread_ts: '1700000001.000100', text: NO_RUNTIME_REPLY, unfurl_links: false, unfurl_media: false },
      },
    ]);
  });

  it('one user message subscribed as both message and app_mention (two event_ids) yields ONE hand-off and one reply', async () => {
    outbound.length = 0;
    const before = (await webhookAudit()).length;
    const asMessage = event('EvE2E2a', 'message', '1700000002.000100', '<@U0BOT> hi');
    const asMention = event('EvE2E2b', 'app_mention', '1700000002.000100', '<@U0BOT> hi');
    expect((await post(asMention, await json(asMention))).status).toBe(200);
    expect((await post(asMessage, await json(asMessage))).status).toBe(200);
    expect((await webhookAudit()).slice(before).map((row) => [row.kind, row.data.eventKey ?? null])).toEqual([
      ['webhook.accepted', null],
      ['webhook.duplicate', 'message:T1DC2JH3J:C0123:1700000002.000100'],
    ]);
    expect(outbound).toHaveLength(1);
  });

  it('an edit or a bot event carrying the same channel and ts never shadows the message itself', async () => {
    outbound.length = 0;
    const ts = '1700000004.000100';
    const edit = JSON.stringify({
      type: 'event_callback',
      team_id: 'T1DC2JH3J',
      event_id: 'EvE2E4a',
      event: { type: 'message', subtype: 'message_changed', channel: 'C0123', ts },
    });
    const bot = JSON.stringify({
      type: 'event_callback',
      team_id: 'T1DC2JH3J',
      event_id: 'EvE2E4b',
      event: { type: 'message', bot_id: 'B1', text: 'from a bot', channel: 'C0123', ts },
    });
    for (const body of [edit, bot]) expect((await post(body, await json(body))).status).toBe(200);
    expect(outbound).toEqual([]);
    const message = event('EvE2E4c', 'message', ts);
    expect((await post(message, await json(message))).status).toBe(200);
    expect(outbound).toHaveLength(1);
  });

  it('two different messages in one channel are two hand-offs', async () => {
    outbound.length = 0;
    for (const [id, ts] of [
      ['EvE2E3a', '1700000003.000100'],
      ['EvE2E3b', '1700000003.000200'],
    ] as const) {
      const body = event(id, 'message', ts);
      expect((await post(body, await json(body))).status).toBe(200);
    }
    expect(outbound).toHaveLength(2);
  });
});

describe('Slack slash commands through the real Worker', () => {
  it("parses the slash command of Slack's own signing example byte for byte (empty text: the command name is the text)", () => {
    expect(parseSlackForm(slackSigning.rawBody, { connectorId: 'sl_x', agentId: 'agt_x' }, 1_531_420_618_000)).toEqual({
      kind: 'command',
      eventKey: 'command:398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
      message: {
        platform: 'slack',
        connectorId: 'sl_x',
        agentId: 'agt_x',
        conversationKey: 'slack:T1DC2JH3J:G8PSS9T3V:user:U2CERLKJA',
        sender: { id: 'U2CERLKJA', name: 'roadrunner' },
        text: '/webhook-collect',
        replyHandle: {
          platform: 'slack',
          responseUrl: 'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
          receivedAt: 1_531_420_618_000,
        },
      },
    });
  });

  it('is verified, acknowledged with an empty 200, handed off once and answered through its response_url (ephemeral, no bot token)', async () => {
    outbound.length = 0;
    const before = (await webhookAudit()).length;
    const body = command('13345224609.738474920.8088930838d88f008e0');
    const headers = await form(body);
    const res = await post(body, headers);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    // The same signed bytes again inside the signature window: a replay, acknowledged, not processed.
    expect((await post(body, headers)).status).toBe(200);
    expect((await webhookAudit()).slice(before)).toEqual([
      {
        kind: 'webhook.accepted',
        data: { platform: 'slack', connectorId, agentId, conversationKey: 'slack:T1DC2JH3J:C0123:user:U2CERLKJA' },
      },
      {
        kind: 'webhook.duplicate',
        data: { platform: 'slack', connectorId, eventKey: 'command:13345224609.738474920.8088930838d88f008e0', retryNum: null },
      },
    ]);
    expect(outbound).toEqual([
      {
        url: RESPONSE_URL,
        authorization: null,
        body: { text: NO_RUNTIME_REPLY, response_type: 'ephemeral', unfurl_links: false, unfurl_media: false },
      },
    ]);
  });

  it('acknowledges ssl_check and interactivity payloads without processing them', async () => {
    outbound.length = 0;
    const before = (await webhookAudit()).length;
    for (const body of ['ssl_check=1&token=x', `payload=${encodeURIComponent('{"type":"block_actions"}')}`]) {
      const res = await post(body, await form(body));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    }
    expect((await webhookAudit()).length).toBe(before);
    expect(outbound).toEqual([]);
  });

  it('verifies before it parses: an unsigned or mis-signed command is 401 and nothing runs', async () => {
    outbound.length = 0;
    const body = command('trigger.unsigned.1');
    await expectError(await post(body, { 'Content-Type': 'application/x-www-form-urlencoded' }), 401, 'UNAUTHENTICATED');
    await expectError(await post(body, await signed(body, 'application/x-www-form-urlencoded', 'wrong-secret')), 401, 'UNAUTHENTICATED');
    expect(outbound).toEqual([]);
    expect(await dedupeKeys()).not.toContain('command:trigger.unsigned.1');
  });

  it.each([
    ['another host', 'https://evil.example/commands/T1/1/x'],
    ['a look-alike host', 'https://hooks.slack.com.evil.example/commands/T1/1/x'],
    ['userinfo naming Slack', 'https://hooks.slack.com@evil.example/commands/T1/1/x'],
    ['plain http', 'http://hooks.slack.com/commands/T1/1/x'],
    ['another port', 'https://hooks.slack.com:444/commands/T1/1/x'],
    ['another Slack host', 'https://slack.com/api/chat.postMessage'],
    ['a loopback address', 'https://127.0.0.1/commands/T1/1/x'],
  ])('refuses a signed command whose response_url is on %s: 400, audited, nothing handed off or sent', async (_label, url) => {
    outbound.length = 0;
    const trigger = `trigger.foreign.${nextIp}`;
    const before = (await webhookAudit()).length;
    const body = command(trigger, { response_url: url });
    const error = await expectError(await post(body, await form(body)), 400, 'VALIDATION_ERROR');
    expect(JSON.stringify(error)).not.toContain('response');
    expect((await webhookAudit()).slice(before)).toEqual([
      { kind: 'webhook.rejected', data: { platform: 'slack', connectorId, reason: 'foreign-response-url' } },
    ]);
    expect(outbound).toEqual([]);
    expect(await dedupeKeys()).not.toContain(`command:${trigger}`);
  });

  it.each([
    [
      'a response_url given twice (Slack first, foreign second)',
      `${command('trigger.dup.1')}&response_url=${encodeURIComponent('https://evil.example/x')}`,
    ],
    ['a command without a response_url', command('trigger.none.1', { response_url: '' }).replace('response_url=&', '')],
    ['a command without a trigger_id', command('', {}).replace('&trigger_id=', '')],
  ])('refuses %s with 400 malformed-payload and sends nothing', async (_label, body) => {
    outbound.length = 0;
    const before = (await webhookAudit()).length;
    await expectError(await post(body, await form(body)), 400, 'VALIDATION_ERROR');
    expect((await webhookAudit()).slice(before).map((row) => row.data.reason)).toEqual(['malformed-payload']);
    expect(outbound).toEqual([]);
  });
});
