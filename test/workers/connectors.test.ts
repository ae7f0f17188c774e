import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/lib';
import { slackV0Mac } from '../../src/webhooks';
import { expectError, send } from './helpers';
import { asSession, countRows, dumpDatabase, login, OWNER, setupInstance, type Session } from './identity-helpers';

const SIGNING_SECRET = 'slack-signing-secret-for-tests-0123';
let owner: Session;
let agentId: string;

beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
  const res = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'bot' } });
  agentId = ((await res.json()) as { id: string }).id;
});

async function createConnector(body: Record<string, unknown>) {
  const res = await asSession(owner, `/api/v1/agents/${agentId}/connectors`, { method: 'POST', body });
  return {
    res,
    body: (await res.clone().json()) as { id: string; webhookPath: string; secrets: Record<string, string>; secretToken?: string },
  };
}

async function signedSlack(path: string, payload: unknown, ip = '198.51.100.20') {
  const raw = JSON.stringify(payload);
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = `v0=${bytesToHex(await slackV0Mac(SIGNING_SECRET, ts, new TextEncoder().encode(raw)))}`;
  return send(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Slack-Request-Timestamp': ts, 'X-Slack-Signature': mac, 'CF-Connecting-IP': ip },
    body: raw,
  });
}

describe('connectors API and the hooks it opens', () => {
  it('creates a Slack connector with its secret in the vault (masked in the answer, never in D1)', async () => {
    const { res, body } = await createConnector({ platform: 'slack', signingSecret: SIGNING_SECRET });
    expect(res.status).toBe(201);
    expect(body.id).toMatch(/^con_[0-9a-f]{32}$/);
    expect(body.webhookPath).toBe(`/hooks/slack/${body.id}`);
    expect(body.secrets).toEqual({ SIGNING_SECRET: `••••${SIGNING_SECRET.slice(-4)}` });
    expect(JSON.stringify(body)).not.toContain(SIGNING_SECRET);
    expect(await dumpDatabase()).not.toContain(SIGNING_SECRET);
  });

  it('a signed Slack url_verification gets its challenge back; an unsigned one 401', async () => {
    const { body } = await createConnector({ platform: 'slack', signingSecret: SIGNING_SECRET });
    const ok = await signedSlack(body.webhookPath, { type: 'url_verification', challenge: 'abc123', token: 't' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ challenge: 'abc123' });
    const unsigned = await send(body.webhookPath, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '198.51.100.21' },
      body: '{"type":"url_verification","challenge":"x"}',
    });
    expect(unsigned.status).toBe(401);
  });

  it('generates a Telegram secret token when none is given, shows it once, and masks it afterwards', async () => {
    const { res, body } = await createConnector({ platform: 'telegram', botToken: '123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ' });
    expect(res.status).toBe(201);
    expect(body.secretToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const list = await (await asSession(owner, `/api/v1/agents/${agentId}/connectors`)).text();
    expect(list).not.toContain(body.secretToken);
    expect(list).not.toContain('AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ');
  });

  it.each([
    ['a Discord key that is not 64 hex', { platform: 'discord', applicationId: '123456789012345678', publicKey: 'zz' }],
    ['a Discord key that is not a curve point', { platform: 'discord', applicationId: '123456789012345678', publicKey: 'ff'.repeat(32) }],
    [
      'a Telegram secret token outside the alphabet',
      { platform: 'telegram', botToken: '123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ', secretToken: 'has space' },
    ],
    ['an unknown platform', { platform: 'irc', token: 'x' }],
    ['an extra field', { platform: 'slack', signingSecret: SIGNING_SECRET, workspaceId: 'ws_other' }],
  ])('refuses %s with 400 and writes nothing', async (_label, payload) => {
    const before = await countRows('connectors');
    const secretsBefore = await countRows('vault_secrets');
    await expectError((await createConnector(payload)).res, 400, 'VALIDATION_ERROR');
    expect(await countRows('connectors')).toBe(before);
    expect(await countRows('vault_secrets')).toBe(secretsBefore);
  });

  it('a deleted connector answers exactly like an unknown one, and its secrets are gone', async () => {
    const { body } = await createConnector({ platform: 'slack', signingSecret: SIGNING_SECRET });
    expect((await asSession(owner, `/api/v1/agents/${agentId}/connectors/${body.id}`, { method: 'DELETE' })).status).toBe(204);
    const deleted = await signedSlack(body.webhookPath, { type: 'url_verification', challenge: 'x' }, '198.51.100.30');
    const unknown = await signedSlack(
      '/hooks/slack/con_ffffffffffffffffffffffffffffffff',
      { type: 'url_verification', challenge: 'x' },
      '198.51.100.30',
    );
    const wrongPlatform = await signedSlack(
      body.webhookPath.replace('/slack/', '/telegram/'),
      { type: 'url_verification', challenge: 'x' },
      '198.51.100.30',
    );
    const strip = async (r: Response) => (await r.text()).replace(r.headers.get('X-Request-Id') ?? '', '');
    expect([deleted.status, unknown.status, wrongPlatform.status]).toEqual([404, 404, 404]);
    const [a, b, c] = [await strip(deleted), await strip(unknown), await strip(wrongPlatform)];
    expect(a).toBe(b);
    expect(b).toBe(c);
    const left = await env.DB.prepare('SELECT COUNT(*) AS n FROM vault_secrets WHERE owner_id = ?').bind(body.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });

  it('another workspace cannot list or delete these connectors (404)', async () => {
    const res = await asSession(owner, '/api/v1/workspaces', {
      method: 'POST',
      body: { name: 'Other', ownerEmail: 'other-owner@example.com' },
    });
    const { inviteToken } = (await res.json()) as { inviteToken: string };
    await send('/api/v1/auth/accept-invite', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: inviteToken, password: 'other owner passphrase' }),
    });
    const other = await login('other-owner@example.com', 'other owner passphrase');
    await expectError(await asSession(other, `/api/v1/agents/${agentId}/connectors`), 404, 'NOT_FOUND');
    const before = await countRows('connectors');
    const { body } = await createConnector({ platform: 'slack', signingSecret: SIGNING_SECRET });
    await expectError(await asSession(other, `/api/v1/agents/${agentId}/connectors/${body.id}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    expect(await countRows('connectors')).toBe(before + 1);
  });

  it('verifying a hook request opens only the verification secret, not the bot token', async () => {
    const { body } = await createConnector({ platform: 'telegram', botToken: '123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ' });
    // Corrupt the stored bot token: if verification opened it, the hook would fail with 500.
    await env.DB.prepare("UPDATE vault_secrets SET envelope = 'v1.k1.AAAA.AAAA' WHERE owner_id = ? AND name = 'BOT_TOKEN'")
      .bind(body.id)
      .run();
    const wrong = await send(body.webhookPath, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': 'wrong', 'CF-Connecting-IP': '198.51.100.40' },
      body: '{"update_id":1}',
    });
    expect(wrong.status).toBe(401);
  });
});
