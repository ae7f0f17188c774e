import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { removeMember } from '../../src/auth';
import { formTokenOf, page, postForm } from './dashboard-helpers';
import { expectError } from './helpers';
import {
  asKey,
  asSession,
  countRows,
  createKey,
  createWorkspaceWithOwner,
  domainActor,
  inviteUser,
  login,
  OWNER,
  setupInstance,
  type Session,
} from './identity-helpers';

const PASSWORD = 'a member passphrase, long enough';
let owner: Session;
let workspaceA: string;
let ownerB: Session;

beforeAll(async () => {
  workspaceA = (await setupInstance('Workspace A')).workspaceId;
  owner = await login(OWNER.email, OWNER.password);
  ownerB = await createWorkspaceWithOwner(owner, 'Workspace B', 'owner-b@example.com', PASSWORD);
});

/** A member of workspace A, signed in, with an API key and an OAuth grant of their own. */
async function member(email: string, role: string) {
  const userId = await inviteUser(owner, email, role, PASSWORD);
  const session = await login(email, PASSWORD);
  const key = await createKey(session, ['agents:read']);
  const grantId = `grant-${userId}`;
  await env.DB.prepare(
    "INSERT INTO oauth_grants (id, workspace_id, agent_id, user_id, client_id, client_name, scope, created_at) VALUES (?, ?, 'agt_x', ?, 'cl', 'client', 'tools:invoke', 1)",
  )
    .bind(grantId, workspaceA, userId)
    .run();
  return { userId, session, key, grantId };
}

const removal = (by: Session, id: string) => asSession(by, `/api/v1/members/${id}`, { method: 'DELETE' });

async function removedEvents(userId: string) {
  const { results } = await env.DB.prepare(
    "SELECT actor, data FROM audit_events WHERE kind = 'user.removed' AND json_extract(data, '$.userId') = ?",
  )
    .bind(userId)
    .all<{ actor: string; data: string }>();
  return results.map((row) => ({ actor: row.actor, data: JSON.parse(row.data) as Record<string, unknown> }));
}

/** Nothing of the member changed: they still sign in, their key works, nothing audited. */
async function expectUntouched(target: Awaited<ReturnType<typeof member>>) {
  expect((await asSession(target.session, '/api/v1/me')).status).toBe(200);
  expect((await asKey(target.key.key, '/api/v1/me')).status).toBe(200);
  const grant = await env.DB.prepare('SELECT revoked_at FROM oauth_grants WHERE id = ?')
    .bind(target.grantId)
    .first<{ revoked_at: number | null }>();
  expect(grant?.revoked_at).toBeNull();
  expect(await removedEvents(target.userId)).toEqual([]);
}

describe('DELETE /api/v1/members/:id', () => {
  it('removes an operator: their sessions end, their API keys and OAuth grants are revoked, one audit event', async () => {
    const target = await member('operator@example.com', 'operator');
    const res = await removal(owner, target.userId);
    expect(res.status).toBe(204);
    await expectError(await asSession(target.session, '/api/v1/me'), 401, 'UNAUTHENTICATED');
    await expectError(await asKey(target.key.key, '/api/v1/me'), 401, 'UNAUTHENTICATED');
    const key = await env.DB.prepare('SELECT revoked_at FROM api_keys WHERE id = ?')
      .bind(target.key.id)
      .first<{ revoked_at: number | null }>();
    expect(key?.revoked_at).toEqual(expect.any(Number));
    const grant = await env.DB.prepare('SELECT revoked_at FROM oauth_grants WHERE id = ?')
      .bind(target.grantId)
      .first<{ revoked_at: number | null }>();
    expect(grant?.revoked_at).toEqual(expect.any(Number));
    const listed = (await (await asSession(owner, '/api/v1/users')).json()) as { users: { id: string }[] };
    expect(listed.users.map((u) => u.id)).not.toContain(target.userId);
    expect(await removedEvents(target.userId)).toEqual([
      {
        actor: `user:${owner.userId}`,
        data: { userId: target.userId, role: 'operator', sessionsRevoked: 1, apiKeysRevoked: [target.key.id], oauthGrantsRevoked: 1 },
      },
    ]);
    // The address is free again: the member can be invited back.
    expect(
      (await asSession(owner, '/api/v1/users', { method: 'POST', body: { email: 'operator@example.com', role: 'viewer' } })).status,
    ).toBe(201);
  });

  it('accepts an admin API key, and the event names the key', async () => {
    const target = await member('viewer-by-key@example.com', 'viewer');
    const adminKey = await createKey(owner, ['admin']);
    expect((await asKey(adminKey.key, `/api/v1/members/${target.userId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await removedEvents(target.userId)).map((e) => e.actor)).toEqual([`api_key:${adminKey.id}`]);
  });

  describe('attempts that must change nothing', () => {
    let admin: Awaited<ReturnType<typeof member>>;
    let otherAdmin: Awaited<ReturnType<typeof member>>;
    let operator: Awaited<ReturnType<typeof member>>;
    let viewer: Awaited<ReturnType<typeof member>>;
    beforeAll(async () => {
      admin = await member('admin@example.com', 'admin');
      otherAdmin = await member('admin2@example.com', 'admin');
      operator = await member('operator2@example.com', 'operator');
      viewer = await member('viewer@example.com', 'viewer');
    });

    it('an admin removing another admin (equal rank) → 403', async () => {
      await expectError(await removal(admin.session, otherAdmin.userId), 403, 'FORBIDDEN');
      await expectUntouched(otherAdmin);
    });

    it('an admin removing the owner → 403, the owner keeps their session', async () => {
      await expectError(await removal(admin.session, owner.userId), 403, 'FORBIDDEN');
      expect((await asSession(owner, '/api/v1/me')).status).toBe(200);
      expect(await removedEvents(owner.userId)).toEqual([]);
    });

    it('an operator (no admin scope) removing a viewer → 403', async () => {
      await expectError(await removal(operator.session, viewer.userId), 403, 'FORBIDDEN');
      await expectUntouched(viewer);
    });

    it('another workspace’s owner naming a member of this one → 404, the same as an unknown id', async () => {
      const cross = await removal(ownerB, viewer.userId);
      const unknown = await removal(ownerB, 'usr_does_not_exist');
      const crossBody = await expectError(cross, 404, 'NOT_FOUND');
      const unknownBody = await expectError(unknown, 404, 'NOT_FOUND');
      expect(crossBody.message).toBe(unknownBody.message);
      await expectUntouched(viewer);
      // And the instance owner cannot reach into workspace B either.
      await expectError(await removal(owner, ownerB.userId), 404, 'NOT_FOUND');
      expect((await asSession(ownerB, '/api/v1/me')).status).toBe(200);
    });

    it('the last owner removing themselves → 403 (workspace B keeps its owner)', async () => {
      await expectError(await removal(ownerB, ownerB.userId), 403, 'FORBIDDEN');
      await expectError(await removal(owner, owner.userId), 403, 'FORBIDDEN');
      expect((await asSession(ownerB, '/api/v1/me')).status).toBe(200);
      expect(await removedEvents(ownerB.userId)).toEqual([]);
    });

    it('a session without X-CSRF-Token (a cross-site request) → 403 CSRF_FAILED', async () => {
      const res = await asSession(owner, `/api/v1/members/${viewer.userId}`, { method: 'DELETE', headers: { 'X-CSRF-Token': '' } });
      await expectError(res, 403, 'CSRF_FAILED');
      await expectUntouched(viewer);
    });

    it('the transaction refuses to remove a workspace’s last owner even when the rank check would allow it', async () => {
      // No HTTP caller gets here (rule 2 stops them first); the conditional delete is the
      // backstop: an instance-owner principal aimed at workspace B's only owner.
      const users = await countRows('users');
      const forged = domainActor(ownerB.workspaceId, owner.userId, { isInstanceOwner: true, role: 'owner' });
      const outcome = await removeMember(env, forged, ownerB.userId, () => Date.now());
      expect(outcome.ok).toBe(false);
      expect(!outcome.ok && outcome.problem.kind).toBe('conflict');
      expect(await countRows('users')).toBe(users);
      expect((await asSession(ownerB, '/api/v1/me')).status).toBe(200);
    });
  });
});

describe('the members page’s remove button', () => {
  it('asks first on a page of its own, then removes on the form post (no script needed)', async () => {
    const target = await member('page-removed@example.com', 'operator');
    const list = await (await page(owner, '/members')).text();
    expect(list).toContain(`href="/members/${target.userId}/remove"`);
    const confirm = await page(owner, `/members/${target.userId}/remove`);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html).toContain('Remove page-removed@example.com (operator) from this workspace?');
    expect(await removedEvents(target.userId)).toEqual([]);
    const token = await formTokenOf(owner, `/members/${target.userId}/remove`);
    const res = await postForm(`/members/${target.userId}/remove`, { _csrf: token }, { cookie: owner.cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/members');
    await expectError(await asSession(target.session, '/api/v1/me'), 401, 'UNAUTHENTICATED');
    expect(await removedEvents(target.userId)).toHaveLength(1);
  });

  it.each([
    ['no _csrf field', () => ({})],
    ['the API’s X-CSRF-Token value as the field', () => ({ _csrf: owner.csrfToken })],
    ['a made-up field', () => ({ _csrf: 'A'.repeat(43) })],
  ])('refuses a remove post with %s (403, member untouched)', async (_name, fields) => {
    const target = await member(`csrf-${Math.random().toString(36).slice(2)}@example.com`, 'viewer');
    const res = await postForm(`/members/${target.userId}/remove`, fields(), { cookie: owner.cookie });
    expect(res.status).toBe(403);
    await expectUntouched(target);
  });

  it('shows a refusal on the confirm page (an admin removing an admin → 403, nothing removed)', async () => {
    const first = await member('page-admin1@example.com', 'admin');
    const second = await member('page-admin2@example.com', 'admin');
    const token = await formTokenOf(first.session, `/members/${second.userId}/remove`);
    const res = await postForm(`/members/${second.userId}/remove`, { _csrf: token }, { cookie: first.session.cookie });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Remove a member');
    await expectUntouched(second);
  });
});
