/**
 * The webhook path does its work once, through the real Worker app (real connector lookup,
 * record cache, vault, dedupe object, audit log): the connector and the sealed verification
 * secret come from the connector's ConnectorRecordCache object, which reads them from D1 in one
 * join the first time and from memory after that, until the connector is deleted; one
 * decryption of the secret per request; the looked-up record handed into the delivery (no
 * second lookup); the bot token opened only on the reply path of a verified, first-seen
 * event. D1 is wrapped to record the statements it is asked to run (the Worker's, and the
 * cache object's through its own env); outbound fetch is captured.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import type { Env } from '../../src/env';
import { bytesToHex, utf8 } from '../../src/lib';
import { slackV0Mac } from '../../src/webhooks';
import { ORIGIN } from './helpers';
import { asSession, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';

const SIGNING_SECRET = 'pipeline-signing-secret-0123456789';
const BOT_TOKEN = 'xoxb-1111-2222-pipelineBotToken';

const outbound: { url: string; authorization: string | null }[] = [];
const app = createApp({
  loginThrottle: testThrottle,
  fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
    outbound.push({ url: String(input), authorization: new Headers(init?.headers).get('Authorization') });
    return Response.json({ ok: true });
  }) as typeof fetch,
});

/** D1 as the app sees it, recording each statement's SQL and bound values. */
function recordingDb() {
  const statements: { sql: string; params: unknown[] }[] = [];
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'prepare') {
        return (sql: string) => {
          const entry = { sql, params: [] as unknown[] };
          statements.push(entry);
          const statement = target.prepare(sql);
          return new Proxy(statement, {
            get(stmt, name) {
              if (name === 'bind')
                return (...params: unknown[]) => {
                  entry.params = params;
                  return stmt.bind(...params);
                };
              const value = Reflect.get(stmt, name, stmt) as unknown;
              return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(stmt) : value;
            },
          });
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { statements, db: db as Env['DB'] };
}

type Statement = { sql: string; params: unknown[] };

/** Which tables the statements read (as FROM or joined) and which vault secret names they asked for. */
function readsOf(statements: Statement[]) {
  const reads = (table: string) => statements.filter((s) => new RegExp(`^select .* (from|join) "${table}"`, 'i').test(s.sql));
  const vaultNames = reads('vault_secrets').map((s) => s.params.find((p) => typeof p === 'string' && /^[A-Z_]+$/.test(p)));
  return { connectorReads: reads('connectors').length, vaultNames, statements };
}

/** Records the D1 statements the connector's record cache object runs from now on. */
async function recordCacheReads(id: string): Promise<Statement[]> {
  const recorder = recordingDb();
  await runInDurableObject(env.CONNECTOR_CACHE.getByName(`slack:${id}`), (cache) => {
    const self = cache as unknown as { env: Env };
    self.env = { ...self.env, DB: recorder.db };
  });
  return recorder.statements;
}

let owner: Session;
let workspaceId: string;
let connectorId: string;
let agentIdOfPipeline: string;
let nextIp = 0;

async function postSlack(body: string, headers: Record<string, string>) {
  const recorder = recordingDb();
  nextIp++;
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`${ORIGIN}/hooks/slack/${connectorId}`, {
      method: 'POST',
      headers: { 'CF-Connecting-IP': `198.18.7.${nextIp}`, ...headers },
      body,
    }),
    { ...env, DB: recorder.db },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { res, ...readsOf(recorder.statements) };
}

async function signed(body: string, secret = SIGNING_SECRET) {
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = await slackV0Mac(secret, ts, utf8(body));
  return { 'Content-Type': 'application/json', 'X-Slack-Signature': `v0=${bytesToHex(mac)}`, 'X-Slack-Request-Timestamp': ts };
}

const event = (id: string, ts: string) =>
  JSON.stringify({
    type: 'event_callback',
    team_id: 'T1',
    event_id: id,
    // Each test's message has a ts of its own: Slack messages are de-duplicated on channel + ts.
    event: { type: 'message', user: 'U1', text: 'hello', channel: 'C1', ts },
  });

async function auditKinds(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, data FROM audit_events WHERE workspace_id = ? AND kind LIKE 'webhook.%' ORDER BY seq",
  )
    .bind(workspaceId)
    .all<{ kind: string; data: string }>();
  return results.filter((row) => (JSON.parse(row.data) as { connectorId?: string }).connectorId === connectorId).map((row) => row.kind);
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Pipeline'));
  owner = await login(OWNER.email, OWNER.password);
  const agent = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'pipeline-bot' } });
  const agentId = ((await agent.json()) as { id: string }).id;
  agentIdOfPipeline = agentId;
  const created = await asSession(owner, `/api/v1/agents/${agentId}/connectors`, {
    method: 'POST',
    body: { platform: 'slack', signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN },
  });
  expect(created.status).toBe(201);
  connectorId = ((await created.json()) as { id: string }).id;
});

describe('the webhook path does its work once', () => {
  it('a signed event: the connector from its cache (one D1 join when cold), the record handed on, the bot token opened to reply', async () => {
    outbound.length = 0;
    const cacheStatements = await recordCacheReads(connectorId);
    const body = event('Ev-once-1', '1700000000.000101');
    const { res, connectorReads, vaultNames } = await postSlack(body, await signed(body));
    expect(res.status).toBe(200);
    // The cache read the connector and the envelopes of its signing secret and bot token in one statement…
    expect(cacheStatements).toHaveLength(1);
    expect(readsOf(cacheStatements).connectorReads).toBe(1);
    expect(cacheStatements[0]?.params).toEqual(expect.arrayContaining(['SIGNING_SECRET', 'BOT_TOKEN']));
    // …so the Worker ran no statement for either; the bot token was opened (below) from the envelope held.
    expect(connectorReads).toBe(0);
    expect(vaultNames).toEqual([]);
    expect(outbound).toEqual([{ url: 'https://slack.com/api/chat.postMessage', authorization: `Bearer ${BOT_TOKEN}` }]);
    expect(await auditKinds()).toEqual(['webhook.accepted']);
  });

  it('a forged signature: one connector read, one vault open, the bot token never opened, nothing handed off', async () => {
    outbound.length = 0;
    const body = event('Ev-forged-1', '1700000000.000102');
    const before = (await auditKinds()).length;
    const cacheStatements = await recordCacheReads(connectorId);
    const { res, connectorReads, vaultNames } = await postSlack(body, await signed(body, 'not-the-signing-secret'));
    expect(res.status).toBe(401);
    // Warm: no D1 statement at all before the 401, and the bot token never opened.
    expect([cacheStatements.length, connectorReads, vaultNames]).toEqual([0, 0, []]);
    expect(outbound).toEqual([]);
    expect((await auditKinds()).slice(before)).toEqual(['webhook.rejected']);
  });

  it('a url_verification: verified from the warm cache and answered, no D1 statement, no delivery and no audit', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'pipeline-challenge' });
    const before = (await auditKinds()).length;
    const cacheStatements = await recordCacheReads(connectorId);
    const { res, statements } = await postSlack(body, await signed(body));
    expect(await res.json()).toEqual({ challenge: 'pipeline-challenge' });
    expect([cacheStatements.length, statements.length]).toEqual([0, 0]);
    expect((await auditKinds()).length).toBe(before);
  });

  it('a replayed event is acknowledged with the same single lookup, audited as a duplicate, and not answered again', async () => {
    outbound.length = 0;
    const body = event('Ev-replay-1', '1700000000.000103');
    expect((await postSlack(body, await signed(body))).res.status).toBe(200);
    const again = await postSlack(body, await signed(body));
    expect(again.res.status).toBe(200);
    expect([again.connectorReads, again.vaultNames]).toEqual([0, []]);
    expect(outbound.map((o) => o.url)).toEqual(['https://slack.com/api/chat.postMessage']);
    expect((await auditKinds()).slice(-2)).toEqual(['webhook.accepted', 'webhook.duplicate']);
  });

  it('a deleted connector is refused from the next request on: the delete tells the cache, which reads D1 again', async () => {
    const created = await asSession(owner, `/api/v1/agents/${agentIdOfPipeline}/connectors`, {
      method: 'POST',
      body: { platform: 'slack', signingSecret: SIGNING_SECRET },
    });
    const doomed = ((await created.json()) as { id: string }).id;
    const body = JSON.stringify({ type: 'url_verification', challenge: 'still-here' });
    const post = async () =>
      app.fetch(
        new Request(`${ORIGIN}/hooks/slack/${doomed}`, {
          method: 'POST',
          headers: { 'CF-Connecting-IP': '198.18.9.1', ...(await signed(body)) },
          body,
        }),
        env,
        createExecutionContext(),
      );
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200); // served from memory now
    const deleted = await asSession(owner, `/api/v1/agents/${agentIdOfPipeline}/connectors/${doomed}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    const cacheStatements = await recordCacheReads(doomed);
    const refused = await post();
    expect(refused.status).toBe(404);
    expect(readsOf(cacheStatements).connectorReads).toBe(1);
  });

  it("the agent's model comes with the cached record (no D1 read of the agent per event), and a PATCH of it reaches the very next event", async () => {
    const agentReads = (statements: Statement[]) => statements.filter((s) => /^select .* (from|join) "agents"/i.test(s.sql)).length;
    const conversationsOfAgent = async () =>
      (await env.DB.prepare('SELECT COUNT(*) AS n FROM conversations WHERE agent_id = ?').bind(agentIdOfPipeline).first<{ n: number }>())
        ?.n;
    const patchModel = async (model: unknown) =>
      expect((await asSession(owner, `/api/v1/agents/${agentIdOfPipeline}`, { method: 'PATCH', body: { model } })).status).toBe(200);
    outbound.length = 0;
    const first = event('Ev-model-1', '1700000000.000201');
    const noModel = await postSlack(first, await signed(first));
    expect(noModel.res.status).toBe(200);
    // Without a model: the "no agent runtime" reply, and the Worker never asked D1 about the agent.
    expect([agentReads(noModel.statements), outbound.length, await conversationsOfAgent()]).toEqual([0, 1, 0]);
    await patchModel({ provider: 'workers-ai', model: '@cf/meta/llama-3.1-8b-instruct' });
    const second = event('Ev-model-2', '1700000000.000202');
    const withModel = await postSlack(second, await signed(second));
    expect(withModel.res.status).toBe(200);
    // The next event goes to the runtime (a conversation, no fallback reply from the Worker), still without an agent read.
    expect([agentReads(withModel.statements), outbound.length, await conversationsOfAgent()]).toEqual([0, 1, 1]);
    await patchModel(null);
    const third = event('Ev-model-3', '1700000000.000203');
    expect((await postSlack(third, await signed(third))).res.status).toBe(200);
    expect([outbound.length, await conversationsOfAgent()]).toEqual([2, 1]);
  });

  it('after a rotation retires the key a cached envelope was sealed under, the next webhook still verifies (read again from D1)', async () => {
    const created = await asSession(owner, `/api/v1/agents/${agentIdOfPipeline}/connectors`, {
      method: 'POST',
      body: { platform: 'slack', signingSecret: SIGNING_SECRET },
    });
    const id = ((await created.json()) as { id: string }).id;
    const k1 = env.VAULT_KEYS ?? '';
    const k2 = 'k2:' + btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const body = JSON.stringify({ type: 'url_verification', challenge: 'after-rotation' });
    const post = async (keys: string) =>
      app.fetch(
        new Request(`${ORIGIN}/hooks/slack/${id}`, {
          method: 'POST',
          headers: { 'CF-Connecting-IP': '198.18.9.2', ...(await signed(body)) },
          body,
        }),
        { ...env, VAULT_KEYS: keys },
        createExecutionContext(),
      );
    expect((await post(k1)).status).toBe(200); // the cache now holds the envelope sealed under k1
    const rotate = await app.fetch(
      new Request(`${ORIGIN}/api/v1/admin/vault/rotate`, {
        method: 'POST',
        headers: { Cookie: owner.cookie, 'X-CSRF-Token': owner.csrfToken, 'Content-Type': 'application/json' },
        body: JSON.stringify({ batchSize: 500 }),
      }),
      { ...env, VAULT_KEYS: `${k2},${k1}` },
      createExecutionContext(),
    );
    expect(rotate.status).toBe(200);
    const answered = await post(k2); // k1 retired
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ challenge: 'after-rotation' });
  });

  it('a probe of an unknown connector id is the generic 404 and leaves nothing stored in its cache object', async () => {
    const probed = 'con_' + 'x'.repeat(32);
    const body = JSON.stringify({ type: 'url_verification', challenge: 'probe' });
    const res = await app.fetch(
      new Request(`${ORIGIN}/hooks/slack/${probed}`, {
        method: 'POST',
        headers: { 'CF-Connecting-IP': '198.18.9.3', ...(await signed(body)) },
        body,
      }),
      env,
      createExecutionContext(),
    );
    expect(res.status).toBe(404);
    const stored = await runInDurableObject(env.CONNECTOR_CACHE.getByName(`slack:${probed}`), async (_cache, state) => ({
      keys: (await state.storage.list()).size,
      tables: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray()
        .length,
    }));
    expect(stored).toEqual({ keys: 0, tables: 0 });
  });
});
