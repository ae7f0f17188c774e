import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { postJson } from './helpers';
import { asKey, asSession, createKey, login, OWNER, setupInstance, type Session } from './identity-helpers';

// Every identity change lands in the audit log with the right actor and data, and never
// with a secret (password, token, key, cookie) in it.
let owner: Session;
let workspaceId: string;

interface AuditRow {
  workspace_id: string;
  actor: string;
  data: Record<string, unknown>;
}

async function eventsOf(kind: string): Promise<AuditRow[]> {
  const rows = await env.DB.prepare('SELECT workspace_id, actor, data FROM audit_events WHERE kind = ? ORDER BY workspace_id, seq')
    .bind(kind)
    .all<{ workspace_id: string; actor: string; data: string }>();
  return rows.results.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
}

async function allAuditText(): Promise<string> {
  return JSON.stringify((await env.DB.prepare('SELECT actor, data FROM audit_events').all()).results);
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Audited'));
  owner = await login(OWNER.email, OWNER.password, '198.51.100.10');
});

describe('auth.* events', () => {
  it('login success and failure (unknown email on the instance chain, wrong password on the workspace chain), logout', async () => {
    const successes = (await eventsOf('auth.login.succeeded')).filter((e) => e.data.userId === owner.userId);
    const session = await env.DB.prepare('SELECT id FROM sessions WHERE user_id = ? ORDER BY created_at DESC LIMIT 1')
      .bind(owner.userId)
      .first<{ id: string }>();
    expect(successes.at(-1)).toEqual({
      workspace_id: workspaceId,
      actor: `user:${owner.userId}`,
      data: { userId: owner.userId, sessionId: session!.id },
    });

    expect(
      (
        await postJson(
          '/api/v1/auth/login',
          { email: 'ghost@example.com', password: 'ghost guess passphrase' },
          { 'CF-Connecting-IP': '198.51.100.11' },
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await postJson(
          '/api/v1/auth/login',
          { email: OWNER.email, password: 'owner guess passphrase' },
          { 'CF-Connecting-IP': '198.51.100.12' },
        )
      ).status,
    ).toBe(401);
    const failed = await eventsOf('auth.login.failed');
    expect(failed).toContainEqual({
      workspace_id: 'instance',
      actor: 'ip:198.51.100.11',
      data: { reason: 'unknown-email', emailHash: expect.stringMatching(/^[0-9a-f]{16}$/) },
    });
    expect(failed).toContainEqual({
      workspace_id: workspaceId,
      actor: 'ip:198.51.100.12',
      data: { reason: 'wrong-password', emailHash: expect.stringMatching(/^[0-9a-f]{16}$/) },
    });

    const other = await login(OWNER.email, OWNER.password);
    expect((await asSession(other, '/api/v1/auth/logout', { method: 'POST' })).status).toBe(204);
    const sessionId = (await eventsOf('auth.login.succeeded')).at(-1)!.data.sessionId;
    expect((await eventsOf('auth.logout')).at(-1)).toEqual({
      workspace_id: workspaceId,
      actor: `user:${owner.userId}`,
      data: { userId: owner.userId, sessionId },
    });

    const text = await allAuditText();
    for (const secret of [
      'ghost guess passphrase',
      'owner guess passphrase',
      OWNER.password,
      'ghost@example.com',
      other.cookie.split('=')[1]!,
      other.csrfToken,
    ])
      expect(text).not.toContain(secret);
  });

  it('invitation issued and accepted, role changed', async () => {
    const invite = await asSession(owner, '/api/v1/users', { method: 'POST', body: { email: 'newbie@example.com', role: 'viewer' } });
    const { user, inviteToken, expiresAt } = (await invite.json()) as { user: { id: string }; inviteToken: string; expiresAt: number };
    expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'newbie chosen passphrase' })).status).toBe(204);
    expect((await asSession(owner, `/api/v1/users/${user.id}`, { method: 'PATCH', body: { role: 'operator' } })).status).toBe(200);

    expect((await eventsOf('auth.invite.issued')).filter((e) => e.data.userId === user.id)).toEqual([
      { workspace_id: workspaceId, actor: `user:${owner.userId}`, data: { userId: user.id, role: 'viewer', expiresAt } },
    ]);
    expect((await eventsOf('auth.invite.accepted')).filter((e) => e.data.userId === user.id)).toEqual([
      { workspace_id: workspaceId, actor: `user:${user.id}`, data: { userId: user.id } },
    ]);
    expect((await eventsOf('user.role.changed')).filter((e) => e.data.userId === user.id)).toEqual([
      { workspace_id: workspaceId, actor: `user:${owner.userId}`, data: { userId: user.id, from: 'viewer', to: 'operator' } },
    ]);
    const text = await allAuditText();
    expect(text).not.toContain(inviteToken);
    expect(text).not.toContain('newbie chosen passphrase');
  });
});

describe('api_key.* events', () => {
  it('creation (scopes, expiry) and revocation, by a session and by a key; the key itself never', async () => {
    const admin = await createKey(owner, ['admin', 'agents:read'], { expiresInDays: 30 });
    const child = await asKey(admin.key, '/api/v1/api-keys', { method: 'POST', body: { name: 'from a key', scopes: ['agents:read'] } });
    const childKey = (await child.json()) as { id: string; key: string };
    expect((await asKey(admin.key, `/api/v1/api-keys/${childKey.id}`, { method: 'DELETE' })).status).toBe(204);

    const created = await eventsOf('api_key.created');
    expect(created.find((e) => e.data.keyId === admin.id)).toEqual({
      workspace_id: workspaceId,
      actor: `user:${owner.userId}`,
      data: { keyId: admin.id, name: 'test key', scopes: ['admin', 'agents:read'], expiresAt: expect.any(Number) },
    });
    // What a key did is attributed to that key, so a leaked key's actions can be traced and scoped.
    expect(created.find((e) => e.data.keyId === childKey.id)).toEqual({
      workspace_id: workspaceId,
      actor: `api_key:${admin.id}`,
      data: { keyId: childKey.id, name: 'from a key', scopes: ['agents:read'], expiresAt: null },
    });
    expect((await eventsOf('api_key.revoked')).filter((e) => e.data.keyId === childKey.id)).toEqual([
      { workspace_id: workspaceId, actor: `api_key:${admin.id}`, data: { keyId: childKey.id } },
    ]);
    const invite = await asKey(admin.key, '/api/v1/users', { method: 'POST', body: { email: 'keyed-invite@example.com', role: 'viewer' } });
    const invited = ((await invite.json()) as { user: { id: string } }).user.id;
    expect((await eventsOf('auth.invite.issued')).filter((e) => e.data.userId === invited).map((e) => e.actor)).toEqual([
      `api_key:${admin.id}`,
    ]);
    const text = await allAuditText();
    expect(text).not.toContain(admin.key);
    expect(text).not.toContain(childKey.key);
    expect(text).not.toContain(admin.key.slice(4, 40));
  });
});
