import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { asSession, login, OWNER, setupInstance, type Session } from './identity-helpers';

let owner: Session;

beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
  for (let i = 0; i < 3; i++)
    await asSession(owner, '/api/v1/api-keys', { method: 'POST', body: { name: `k${i}`, scopes: ['agents:read'] } });
});

type Page = { events: Array<{ seq: number; kind: string; data: Record<string, unknown> }>; nextCursor: string | null };

describe('GET /api/v1/audit, /export and /verify', () => {
  it('pages through the chain with a cursor, oldest first, and export has the same events as JSON Lines', async () => {
    const seqs: number[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await asSession(owner, `/api/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      pageSizes.push(page.events.length);
      seqs.push(...page.events.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    // setup, login and three key creations (beforeAll): five events, two per page.
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);

    const exported = await asSession(owner, '/api/v1/audit/export');
    expect(exported.headers.get('Content-Type')).toBe('application/x-ndjson; charset=utf-8');
    const lines = (await exported.text()).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { kind: string }).kind)).toEqual([
      'setup.completed',
      'auth.login.succeeded',
      'api_key.created',
      'api_key.created',
      'api_key.created',
    ]);
    expect(lines.map((line) => (JSON.parse(line) as { seq: number }).seq).slice(0, seqs.length)).toEqual(seqs);
  });

  it('rejects a malformed cursor or limit with 400', async () => {
    expect((await asSession(owner, '/api/v1/audit?cursor=abc')).status).toBe(400);
    expect((await asSession(owner, '/api/v1/audit?limit=100000')).status).toBe(400);
  });

  it('verifies a clean chain, then reports the first broken event after tampering', async () => {
    const clean = (await (await asSession(owner, '/api/v1/audit/verify')).json()) as { ok: boolean; count: number };
    expect(clean.ok).toBe(true);
    expect(clean.count).toBe(5);

    await env.DB.batch([
      env.DB.prepare('DROP TRIGGER IF EXISTS audit_events_no_update'),
      env.DB.prepare("UPDATE audit_events SET actor = 'user:mallory' WHERE workspace_id = ? AND seq = 2").bind(owner.workspaceId),
    ]);
    const broken = (await (await asSession(owner, '/api/v1/audit/verify')).json()) as {
      ok: boolean;
      firstBroken: { kind: string; seq: number };
    };
    expect(broken.ok).toBe(false);
    expect(broken.firstBroken).toMatchObject({ kind: 'edited', seq: 2 });
  });
});
