import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clientIp, createRouter, handleError, requestId } from '../../src/http';
import { bytesToHex, utf8 } from '../../src/lib';
import { NO_RUNTIME_REPLY, noAgentRuntimeDelivery, webhookRoutes, type ConnectorRecord } from '../../src/webhooks';
import { aheadOfRealNow } from './clock';
import { ORIGIN } from './helpers';

const NOW = aheadOfRealNow();
const BOT_TOKEN = '987654321:AAFakeTelegramBotTokenForTests_0123456';
const SECRET = 'no-runtime-secret';

function mount(workspaceId: string, respond: (url: string) => Response | Promise<Response>) {
  const record: ConnectorRecord = {
    platform: 'telegram',
    agentId: 'agt_nr',
    workspaceId,
    secrets: { secretToken: SECRET, botToken: BOT_TOKEN },
  };
  const lookup = async (_env: unknown, _platform: string, id: string) => (id === 'tg_nr' ? record : null);
  const requests: { url: string; body: unknown }[] = [];
  const logs: string[] = [];
  const deliverInbound = noAgentRuntimeDelivery({
    clock: () => NOW,
    log: (line) => logs.push(line),
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push({ url: String(input), body: JSON.parse(String(init?.body)) });
      return respond(String(input));
    }) as typeof fetch,
  });
  const app = createRouter();
  app.use('*', requestId(), clientIp());
  app.route('/', webhookRoutes({ lookup, deliverInbound, clock: () => NOW }));
  app.onError(handleError);
  async function send(updateId: number) {
    const ctx = createExecutionContext();
    const body = JSON.stringify({
      update_id: updateId,
      message: { message_id: 3, chat: { id: 55, type: 'private' }, from: { id: 55, is_bot: false }, text: 'secret plans' },
    });
    const res = await app.request(
      `${ORIGIN}/hooks/telegram/tg_nr`,
      { method: 'POST', headers: { 'X-Telegram-Bot-Api-Secret-Token': SECRET }, body },
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }
  return { send, requests, logs };
}

async function auditKinds(workspaceId: string) {
  const { results } = await env.DB.prepare('SELECT kind, data FROM audit_events WHERE workspace_id = ? ORDER BY seq')
    .bind(workspaceId)
    .all<{ kind: string; data: string }>();
  return results.map((row) => ({ kind: row.kind, data: JSON.parse(row.data) as Record<string, unknown> }));
}

describe('until the agent runtime exists', () => {
  it('records the accepted message (without its text) and answers "no agent runtime configured" once', async () => {
    const { send, requests } = mount('ws_nr_ok', () => Response.json({ ok: true }));
    expect((await send(1)).status).toBe(200);
    expect((await send(1)).status).toBe(200); // duplicate: no second reply
    expect(requests).toEqual([
      {
        url: `https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`,
        body: {
          chat_id: 55,
          text: NO_RUNTIME_REPLY,
          reply_parameters: { message_id: 3, allow_sending_without_reply: true },
          link_preview_options: { is_disabled: true },
        },
      },
    ]);
    const rows = await auditKinds('ws_nr_ok');
    expect(rows.map((row) => row.kind)).toEqual(['webhook.accepted', 'webhook.duplicate']);
    expect(rows[0]?.data).toEqual({ platform: 'telegram', connectorId: 'tg_nr', agentId: 'agt_nr', conversationKey: 'telegram:55' });
    expect(JSON.stringify(rows)).not.toContain('secret plans');
  });

  it('audits a failed reply and logs it without the bot token', async () => {
    const { send, logs } = mount('ws_nr_fail', (url) => new Response(`upstream rejected ${url}`, { status: 502 }));
    expect((await send(2)).status).toBe(200);
    const rows = await auditKinds('ws_nr_fail');
    expect(rows.map((row) => row.kind)).toEqual(['webhook.accepted', 'webhook.reply.failed']);
    expect(rows[1]?.data).toEqual({ platform: 'telegram', connectorId: 'tg_nr', reason: 'http-status', status: 502 });
    expect(logs).toHaveLength(1);
    expect(logs[0]).not.toContain(BOT_TOKEN);
    expect(logs[0]).not.toContain('api.telegram.org');
  });
});

describe('until the agent runtime exists: Discord interactions answer through the follow-up, never after the token expired', () => {
  const APPLICATION_ID = '111111111111111111';

  async function mountDiscord(workspaceId: string, deliveryClock: () => number) {
    const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const publicKey = bytesToHex(new Uint8Array((await crypto.subtle.exportKey('raw', keys.publicKey)) as ArrayBuffer));
    const record: ConnectorRecord = { platform: 'discord', agentId: 'agt_nr', workspaceId, secrets: { publicKey } };
    const requests: { url: string; body: unknown }[] = [];
    const deliverInbound = noAgentRuntimeDelivery({
      clock: deliveryClock,
      log: () => undefined,
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        requests.push({ url: String(input), body: JSON.parse(String(init?.body)) });
        return Response.json({ id: '1' });
      }) as typeof fetch,
    });
    const app = createRouter();
    app.use('*', requestId(), clientIp());
    app.route('/', webhookRoutes({ lookup: async (_e, _p, id) => (id === 'dc_nr' ? record : null), deliverInbound, clock: () => NOW }));
    app.onError(handleError);
    async function interact(id: string) {
      const body = JSON.stringify({
        id,
        type: 2,
        application_id: APPLICATION_ID,
        token: `interaction-token-${id}`,
        channel_id: '222222222222222222',
        member: { user: { id: '444444444444444444', username: 'ada' } },
        data: { name: 'ask', options: [{ name: 'q', type: 3, value: '@everyone hello' }] },
      });
      const timestamp = String(NOW / 1000);
      const signature = bytesToHex(new Uint8Array(await crypto.subtle.sign('Ed25519', keys.privateKey, utf8(timestamp + body))));
      const ctx = createExecutionContext();
      const res = await app.request(
        `${ORIGIN}/hooks/discord/dc_nr`,
        { method: 'POST', headers: { 'X-Signature-Ed25519': signature, 'X-Signature-Timestamp': timestamp }, body },
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    }
    return { interact, requests };
  }

  it('a deferred interaction (type 5) is followed up at the follow-up URL with mentions disabled', async () => {
    const { interact, requests } = await mountDiscord('ws_nr_dc_ok', () => NOW + 60_000);
    const res = await interact('910000000000000001');
    expect(await res.json()).toEqual({ type: 5 });
    expect(requests).toEqual([
      {
        url: `https://discord.com/api/v10/webhooks/${APPLICATION_ID}/interaction-token-910000000000000001`,
        body: { content: NO_RUNTIME_REPLY, allowed_mentions: { parse: [] }, flags: 4 },
      },
    ]);
  });

  it('a delivery that runs after the 15-minute token life sends nothing and audits the reply as expired', async () => {
    const { interact, requests } = await mountDiscord('ws_nr_dc_late', () => NOW + 15 * 60_000 + 1);
    expect(await (await interact('910000000000000002')).json()).toEqual({ type: 5 });
    expect(requests).toEqual([]);
    const rows = await auditKinds('ws_nr_dc_late');
    expect(rows.map((row) => row.kind)).toEqual(['webhook.accepted', 'webhook.reply.failed']);
    expect(rows[1]?.data).toEqual({ platform: 'discord', connectorId: 'dc_nr', reason: 'expired', status: null });
  });
});
