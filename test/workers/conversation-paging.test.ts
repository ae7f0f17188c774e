/**
 * GET /api/v1/agents/:id/conversations pages by cursor (conversations.ts listAgentConversations):
 * what a client or an attacker can send as `cursor` and `limit`, and what another workspace's
 * ids get. The conversations are rows as the runtime writes them (the turn itself is tested in
 * agent-runtime.test.ts); two share an `updatedAt`, so the id tie-break is exercised.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/db';
import { expectError, postJson } from './helpers';
import { asSession, login, OWNER, setupInstance, type Session } from './identity-helpers';

interface Page {
  conversations: Array<{ id: string; updatedAt: number }>;
  nextCursor: string | null;
}

let owner: Session;
let ownerB: Session;
let workspaceId: string;
let agentId: string;
let agentB: string;
/** The seeded conversations, most recent first (ties by id, descending). */
let expected: string[];

async function agentOf(session: Session, name: string): Promise<string> {
  const res = await asSession(session, '/api/v1/agents', { method: 'POST', body: { name } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function seed(workspace: string, agent: string, updatedAts: number[]): Promise<Array<{ id: string; updatedAt: number }>> {
  const rows = updatedAts.map((updatedAt) => ({ id: newId('cnv'), updatedAt }));
  for (const row of rows)
    await env.DB.prepare(
      'INSERT INTO conversations (id, workspace_id, agent_id, channel_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    )
      .bind(row.id, workspace, agent, `rest:${row.id}`, 1_000, row.updatedAt)
      .run();
  return rows;
}

function list(session: Session, agent: string, query = ''): Promise<Response> {
  return asSession(session, `/api/v1/agents/${agent}/conversations${query}`);
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Paging A'));
  owner = await login(OWNER.email, OWNER.password);
  const res = await asSession(owner, '/api/v1/workspaces', { method: 'POST', body: { name: 'Paging B', ownerEmail: 'pb@example.com' } });
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'owner b passphrase long' })).status).toBe(204);
  ownerB = await login('pb@example.com', 'owner b passphrase long');
  agentId = await agentOf(owner, 'paged-bot');
  agentB = await agentOf(ownerB, 'other-bot');
  const rows = await seed(workspaceId, agentId, [5_000, 4_000, 4_000, 3_000, 2_000]);
  expected = [...rows].sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1)).map((r) => r.id);
  const workspaceB = (await env.DB.prepare('SELECT workspace_id AS w FROM agents WHERE id = ?').bind(agentB).first<{ w: string }>())!.w;
  await seed(workspaceB, agentB, [9_000]);
});

describe('conversation paging', () => {
  it('pages of two list every conversation once, most recent first, and the last page says there is no next one', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list(owner, agentId, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      expect(page.conversations.length).toBeLessThanOrEqual(2);
      seen.push(...page.conversations.map((c) => c.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
    // Without a limit: all of them on one page.
    const whole = (await (await list(owner, agentId)).json()) as Page;
    expect(whole).toEqual({ conversations: expect.any(Array), nextCursor: null });
    expect(whole.conversations.map((c) => c.id)).toEqual(expected);
  });

  const badCursors: Array<[string, string]> = [
    ['not a cursor', 'abc'],
    ['an id of another kind', `4000.${newId('agt')}`],
    ['a short id', '4000.cnv_abc'],
    ['a timestamp past 15 digits', `${'9'.repeat(16)}.${newId('cnv')}`],
    ['a negative timestamp', `-1.${newId('cnv')}`],
    ['SQL in the id', "4000.cnv_' OR 1=1 --"],
    ['over 100 characters', `4000.${newId('cnv')}${'0'.repeat(80)}`],
  ];
  for (const [name, cursor] of badCursors) {
    it(`refuses a cursor that is ${name} with 400, listing nothing`, async () => {
      const error = await expectError(await list(owner, agentId, `?cursor=${encodeURIComponent(cursor)}`), 400, 'VALIDATION_ERROR');
      expect(error.fields).toEqual(expect.arrayContaining([expect.stringContaining('cursor')]));
    });
  }

  for (const limit of ['0', '-1', '201', '1.5', 'abc', '1e9']) {
    it(`refuses limit=${limit} with 400`, async () => {
      await expectError(await list(owner, agentId, `?limit=${limit}`), 400, 'VALIDATION_ERROR');
    });
  }

  it("another workspace's agent is not found, with or without a cursor", async () => {
    await expectError(await list(owner, agentB), 404, 'NOT_FOUND');
    await expectError(await list(ownerB, agentId, '?limit=1'), 404, 'NOT_FOUND');
  });

  it("a cursor taken from one agent's page, used on another agent, lists only that agent's conversations", async () => {
    const first = (await (await list(owner, agentId, '?limit=1')).json()) as Page;
    expect(first.nextCursor).not.toBeNull();
    // The cursor's position (updatedAt 5000) is before B's only row (9000): B's list after it is empty, never A's rows.
    const res = await list(ownerB, agentB, `?cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(res.status).toBe(200);
    expect((await res.json()) as Page).toEqual({ conversations: [], nextCursor: null });
    const mine = (await (await list(ownerB, agentB)).json()) as Page;
    expect(mine.conversations).toHaveLength(1);
    expect(expected).not.toContain(mine.conversations[0]!.id);
  });
});
