/**
 * The webhook path's isolate copy of a connector record (docs/webhooks.md "Lookup cost"),
 * through the real Worker app: a warm copy verifies without a call to the connector's
 * object, and nothing verified against a copy is handed off before the object confirms it.
 * "Another isolate" is played by changing D1 and telling only the connector's object (what
 * forgetConnector run elsewhere does), with this isolate's copy left as it was.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { bytesToHex, utf8 } from '../../src/lib';
import { sealSecret } from '../../src/vault';
import { lookupConnector } from '../../src/connectors';
import { ISOLATE_RECORD_TTL_MS, ISOLATE_RECORDS_MAX, isolateRecords, slackV0Mac } from '../../src/webhooks';
import { ORIGIN } from './helpers';
import { asSession, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';

const SIGNING_SECRET = 'isolate-copy-signing-secret-0123456789';
const REPLACED_SECRET = 'isolate-copy-replaced-secret-9876543210';
const BOT_TOKEN = 'xoxb-3333-4444-isolateCopyBotToken';

const posted: string[] = [];
const app = createApp({
  loginThrottle: testThrottle,
  fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
    posted.push((JSON.parse(String(init?.body ?? '{}')) as { text?: string }).text ?? String(input));
    return Response.json({ ok: true });
  }) as typeof fetch,
});

let owner: Session;
let workspaceId: string;
let agentId: string;
let nextIp = 0;
let nextEvent = 0;

async function slackConnector(): Promise<string> {
  const created = await asSession(owner, `/api/v1/agents/${agentId}/connectors`, {
    method: 'POST',
    body: { platform: 'slack', signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN },
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

/** The connector objects as the app sees them, counting the record calls made to them. */
const objectCalls = { record: 0 };
const countingCache = {
  getByName(name: string) {
    const stub = env.CONNECTOR_CACHE.getByName(name);
    return {
      record: (...args: Parameters<typeof stub.record>) => {
        objectCalls.record++;
        return stub.record(...args);
      },
      forget: () => stub.forget(),
    };
  },
} as unknown as typeof env.CONNECTOR_CACHE;

async function post(connectorId: string, body: string, secret: string) {
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${bytesToHex(await slackV0Mac(secret, ts, utf8(body)))}`;
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${ORIGIN}/hooks/slack/${connectorId}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Slack-Signature': signature,
        'X-Slack-Request-Timestamp': ts,
        'CF-Connecting-IP': `198.18.9.${++nextIp}`,
      },
      body,
    }),
    { ...env, CONNECTOR_CACHE: countingCache },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

function message(n = ++nextEvent): string {
  return JSON.stringify({
    type: 'event_callback',
    team_id: 'T1',
    event_id: `EvCopy${n}`,
    event: { type: 'message', user: 'U1', text: 'hello', channel: 'C1', ts: `1700000100.0000${n}` },
  });
}

/**
 * Deletes the connector through the API (which drops this isolate's copy and tells the
 * object), then puts the copy back, as another isolate would still hold it.
 */
async function deletedElsewhere(id: string) {
  const copy = isolateRecords.entries.get(`slack:${id}`);
  expect(copy).toBeDefined();
  const deleted = await asSession(owner, `/api/v1/agents/${agentId}/connectors/${id}`, { method: 'DELETE' });
  expect(deleted.status).toBeLessThan(300);
  expect(isolateRecords.entries.has(`slack:${id}`)).toBe(false);
  isolateRecords.entries.set(`slack:${id}`, copy!);
  return copy!;
}

/** What another isolate's forgetConnector does to the object; this isolate's copy is left alone. */
async function forgetInObjectOnly(connectorId: string): Promise<void> {
  await env.CONNECTOR_CACHE.getByName(`slack:${connectorId}`).forget();
}

async function auditedReasons(connectorId: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, data FROM audit_events WHERE workspace_id = ? AND kind LIKE 'webhook.%' ORDER BY seq",
  )
    .bind(workspaceId)
    .all<{ kind: string; data: string }>();
  return results
    .map((row) => ({ kind: row.kind, data: JSON.parse(row.data) as { connectorId?: string; reason?: string } }))
    .filter((row) => row.data.connectorId === connectorId)
    .map((row) => (row.data.reason ? `${row.kind}:${row.data.reason}` : row.kind));
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Isolate copy'));
  owner = await login(OWNER.email, OWNER.password);
  const agent = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'isolate-copy-bot' } });
  agentId = ((await agent.json()) as { id: string }).id;
});

describe("the isolate's copy of a connector record", () => {
  it('warm, a signed challenge and a signed event make no call to the connector object before the answer; the event is confirmed by one after', async () => {
    const id = await slackConnector();
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    objectCalls.record = 0;
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'warm-challenge' });
    expect(await (await post(id, challenge, SIGNING_SECRET)).json()).toEqual({ challenge: 'warm-challenge' });
    expect(objectCalls.record).toBe(0);
    posted.length = 0;
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    // The hand-off (here the "no agent runtime" reply) waited for the object's record: one call, after the answer.
    expect(objectCalls.record).toBe(1);
    expect(posted).toHaveLength(1);
    // A forged signature: the copy refuses it, then the object is asked (one call) and refuses it too.
    objectCalls.record = 0;
    expect((await post(id, challenge, 'not-the-signing-secret')).status).toBe(401);
    expect(objectCalls.record).toBe(1);
  });

  it("only the webhook verification step takes the copy: every other lookup (a turn's reply, a resumed turn) asks the object", async () => {
    const id = await slackConnector();
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    await deletedElsewhere(id);
    expect(await lookupConnector(env, 'slack', id, { allowIsolateCopy: true })).toMatchObject({ isolateCopy: true });
    expect(await lookupConnector(env, 'slack', id)).toBeNull();
    // And the object's "none" drops the copy here too.
    expect(await lookupConnector(env, 'slack', id, { allowIsolateCopy: true })).toBeNull();
  });

  it('a warm copy verifies and answers without asking the object: still up to 30 s after a delete made elsewhere (documented)', async () => {
    const id = await slackConnector();
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    const copy = await deletedElsewhere(id);
    // An oversized body cannot tell that it existed: the 404 of any unknown id, not the 413 of a known one.
    expect((await post(id, 'x'.repeat(1024 * 1024 + 1), SIGNING_SECRET)).status).toBe(404);
    isolateRecords.entries.set(`slack:${id}`, copy);
    // The object would say "unknown" (404): the challenge is answered from the copy alone.
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'copy-challenge' });
    const answered = await post(id, challenge, SIGNING_SECRET);
    expect(await answered.json()).toEqual({ challenge: 'copy-challenge' });
    // A forged signature is still refused: the copy fails it, and the object (asked then) knows no such connector.
    expect((await post(id, challenge, 'not-the-signing-secret')).status).toBe(404);
  });

  it('deleted elsewhere: a copy still acknowledges a signed event, which is never handed off and is audited', async () => {
    const id = await slackConnector();
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    await deletedElsewhere(id);
    const copy = isolateRecords.entries.get(`slack:${id}`)!;
    posted.length = 0;
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    expect(posted).toEqual([]);
    expect((await auditedReasons(id)).at(-1)).toBe('webhook.rejected:connector-changed');
    // Once the copy is past its age, the same request is the 404 of any unknown connector.
    isolateRecords.entries.set(`slack:${id}`, { ...copy, expiresAt: Date.now() - 1 });
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(404);
  });

  it('deleted elsewhere: a signed but malformed payload is refused from the copy and audited nowhere (the object vouches for no workspace)', async () => {
    const id = await slackConnector();
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    await deletedElsewhere(id);
    const before = await auditedReasons(id);
    expect((await post(id, '{ not json', SIGNING_SECRET)).status).toBe(400);
    expect(await auditedReasons(id)).toEqual(before);
  });

  it('a secret replaced through another isolate: the new signature verifies (the object decides), the old one is never handed off', async () => {
    const id = await slackConnector();
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    const sealed = await sealSecret(env, { workspaceId, ownerKind: 'connector', ownerId: id, name: 'SIGNING_SECRET' }, REPLACED_SECRET, {
      now: Date.now(),
    });
    expect(sealed.ok).toBe(true);
    await forgetInObjectOnly(id);
    const stale = isolateRecords.entries.get(`slack:${id}`)!;
    // Signed with the new secret: refused by the stale copy, so the object is asked, and it verifies.
    posted.length = 0;
    expect((await post(id, message(), REPLACED_SECRET)).status).toBe(200);
    expect(posted).toHaveLength(1);
    // Signed with the old secret against a copy that still holds it: acknowledged, not handed off.
    isolateRecords.entries.set(`slack:${id}`, stale);
    const shadowed = ++nextEvent;
    expect((await post(id, message(shadowed), SIGNING_SECRET)).status).toBe(200);
    expect(posted).toHaveLength(1);
    expect((await auditedReasons(id)).at(-1)).toBe('webhook.rejected:connector-changed');
    // Nor was its event id marked seen: the real event of that id, signed with the new secret, is handed off.
    expect((await post(id, message(shadowed), REPLACED_SECRET)).status).toBe(200);
    expect(posted).toHaveLength(2);
    // And with a fresh copy, the old secret is the 401.
    isolateRecords.forget(`slack:${id}`);
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(401);
  });

  it('a copy lives at most ISOLATE_RECORD_TTL_MS and the copies are bounded', async () => {
    const id = await slackConnector();
    expect((await post(id, message(), SIGNING_SECRET)).status).toBe(200);
    const held = isolateRecords.entries.get(`slack:${id}`)!;
    expect(held.expiresAt - Date.now()).toBeLessThanOrEqual(ISOLATE_RECORD_TTL_MS);
    expect(held.expiresAt).toBeGreaterThan(Date.now());
    // Least recently used first: a copy read meanwhile outlives one that was not.
    const other = await slackConnector();
    expect((await post(other, message(), SIGNING_SECRET)).status).toBe(200);
    for (let i = 0; i < 600; i++) {
      isolateRecords.remember(`slack:filler-${i}`, held.value, Date.now());
      if (i % 100 === 0) expect(isolateRecords.get(`slack:${other}`, Date.now())).toBeDefined();
    }
    expect(isolateRecords.entries.size).toBe(ISOLATE_RECORDS_MAX);
    expect(isolateRecords.entries.has(`slack:${id}`)).toBe(false);
    expect(isolateRecords.entries.has(`slack:${other}`)).toBe(true);
    for (let i = 0; i < 600; i++) isolateRecords.forget(`slack:filler-${i}`);
  });
});
