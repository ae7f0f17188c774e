import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { expectError, ORIGIN, postJson } from './helpers';
import { asKey, asSession, createKey, inviteUser, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';

let owner: Session;

beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
});

async function userRow(id: string) {
  return env.DB.prepare('SELECT password_hash, role, updated_at FROM users WHERE id = ?').bind(id).first();
}

async function liveCredentials(userId: string) {
  const keys = await env.DB.prepare('SELECT id FROM api_keys WHERE created_by = ? AND revoked_at IS NULL ORDER BY id')
    .bind(userId)
    .all<{ id: string }>();
  const sessions = await env.DB.prepare('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL ORDER BY id')
    .bind(userId)
    .all<{ id: string }>();
  return { keys: keys.results.map((r) => r.id), sessions: sessions.results.map((r) => r.id) };
}

async function auditOf(kind: string, userId: string) {
  const rows = await env.DB.prepare(
    "SELECT actor, data FROM audit_events WHERE kind = ? AND json_extract(data, '$.userId') = ? ORDER BY seq",
  )
    .bind(kind, userId)
    .all<{ actor: string; data: string }>();
  return rows.results.map((row) => ({ actor: row.actor, data: JSON.parse(row.data) as Record<string, unknown> }));
}

async function issueReset(userId: string): Promise<string> {
  const res = await asSession(owner, `/api/v1/users/${userId}/password-reset`, { method: 'POST' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { resetToken: string }).resetToken;
}

describe('password reset', () => {
  it('sets the new password, revokes every session of the user, and cannot be reused', async () => {
    const userId = await inviteUser(owner, 'alice@example.com', 'operator', 'alice first passphrase');
    const s1 = await login('alice@example.com', 'alice first passphrase');
    const s2 = await login('alice@example.com', 'alice first passphrase');
    const token = await issueReset(userId);

    expect((await postJson('/api/v1/auth/reset', { token, newPassword: 'alice second passphrase' })).status).toBe(204);
    await expectError(await asSession(s1, '/api/v1/me'), 401, 'UNAUTHENTICATED');
    await expectError(await asSession(s2, '/api/v1/me'), 401, 'UNAUTHENTICATED');
    await login('alice@example.com', 'alice second passphrase');

    await expectError(await postJson('/api/v1/auth/reset', { token, newPassword: 'alice third passphrase!' }), 401, 'INVALID_CREDENTIALS');
    await login('alice@example.com', 'alice second passphrase'); // unchanged by the replay
    expect(await auditOf('auth.reset.issued', userId)).toEqual([
      { actor: `user:${owner.userId}`, data: { userId, expiresAt: expect.any(Number) } },
    ]);
    expect(await auditOf('auth.password.reset', userId)).toEqual([
      { actor: `user:${userId}`, data: { userId, sessionsRevoked: 2, apiKeysRevoked: [] } },
    ]);
    expect(JSON.stringify(await env.DB.prepare('SELECT data FROM audit_events').all())).not.toContain(token);
  });

  it('two concurrent redemptions of one token: exactly one succeeds', async () => {
    const userId = await inviteUser(owner, 'race@example.com', 'viewer', 'race first passphrase');
    const token = await issueReset(userId);
    const results = await Promise.all(
      ['race second passphrase', 'race third passphrase'].map((newPassword) => postJson('/api/v1/auth/reset', { token, newPassword })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([204, 401]);
  });

  it('a weak new password is refused without spending the token', async () => {
    const userId = await inviteUser(owner, 'bob@example.com', 'viewer', 'bob first passphrase');
    const token = await issueReset(userId);
    await expectError(await postJson('/api/v1/auth/reset', { token, newPassword: 'password1234' }), 400, 'VALIDATION_ERROR');
    expect((await postJson('/api/v1/auth/reset', { token, newPassword: 'bob second passphrase' })).status).toBe(204);
  });

  it('expires after one hour (clock injected)', async () => {
    const userId = await inviteUser(owner, 'carol@example.com', 'viewer', 'carol first passphrase');
    const token = await issueReset(userId);
    const later = createApp({ now: () => Date.now() + 3600_000 + 1000, loginThrottle: testThrottle });
    const res = await later.fetch(
      new Request(`${ORIGIN}/api/v1/auth/reset`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token, newPassword: 'carol second passphrase' }),
      }),
      env,
    );
    await expectError(res, 401, 'INVALID_CREDENTIALS');
    await login('carol@example.com', 'carol first passphrase');
  });

  it('an invitation token cannot be used as a reset token, nor twice', async () => {
    const res = await asSession(owner, '/api/v1/users', { method: 'POST', body: { email: 'dave@example.com', role: 'viewer' } });
    const { inviteToken } = (await res.json()) as { inviteToken: string };
    await expectError(
      await postJson('/api/v1/auth/reset', { token: inviteToken, newPassword: 'dave some passphrase' }),
      401,
      'INVALID_CREDENTIALS',
    );
    expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'dave some passphrase' })).status).toBe(204);
    await expectError(
      await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'dave other passphrase' }),
      401,
      'INVALID_CREDENTIALS',
    );
  });
});

describe('password change', () => {
  it('needs the current password and revokes the other sessions, keeping this one', async () => {
    await inviteUser(owner, 'erin@example.com', 'viewer', 'erin first passphrase');
    const current = await login('erin@example.com', 'erin first passphrase');
    const other = await login('erin@example.com', 'erin first passphrase');
    await expectError(
      await asSession(current, '/api/v1/auth/password', {
        method: 'POST',
        body: { currentPassword: 'not my passphrase', newPassword: 'erin second passphrase' },
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    const res = await asSession(current, '/api/v1/auth/password', {
      method: 'POST',
      body: { currentPassword: 'erin first passphrase', newPassword: 'erin second passphrase' },
    });
    expect(res.status).toBe(204);
    expect((await asSession(current, '/api/v1/me')).status).toBe(200);
    await expectError(await asSession(other, '/api/v1/me'), 401, 'UNAUTHENTICATED');
  });

  it('revokes every API key the user created (a suspected compromise may have minted them), audited with their ids', async () => {
    const userId = await inviteUser(owner, 'frank@example.com', 'operator', 'frank first passphrase');
    const current = await login('frank@example.com', 'frank first passphrase');
    const k1 = await createKey(current, ['agents:read']);
    const k2 = await createKey(current, ['tools:invoke']);
    const bystander = await createKey(owner, ['agents:read']);
    const res = await asSession(current, '/api/v1/auth/password', {
      method: 'POST',
      body: { currentPassword: 'frank first passphrase', newPassword: 'frank second passphrase' },
    });
    expect(res.status).toBe(204);
    await expectError(await asKey(k1.key, '/api/v1/me'), 401, 'UNAUTHENTICATED');
    await expectError(await asKey(k2.key, '/api/v1/me'), 401, 'UNAUTHENTICATED');
    expect((await asKey(bystander.key, '/api/v1/me')).status).toBe(200);
    expect(await liveCredentials(userId)).toEqual({ keys: [], sessions: [expect.any(String)] });
    const events = await auditOf('auth.password.changed', userId);
    expect(events).toEqual([{ actor: `user:${userId}`, data: { userId, sessionsRevoked: 0, apiKeysRevoked: expect.any(Array) } }]);
    expect([...(events[0]!.data.apiKeysRevoked as string[])].sort()).toEqual([k1.id, k2.id].sort());
    expect(JSON.stringify(events)).not.toContain('passphrase');
  });

  it('refuses an API key, even the user’s own admin key, and changes nothing (no password, session or key touched)', async () => {
    const userId = await inviteUser(owner, 'gina@example.com', 'admin', 'gina first passphrase');
    const gina = await login('gina@example.com', 'gina first passphrase');
    const { key } = await createKey(gina, ['admin', 'agents:read']);
    const before = { user: await userRow(userId), credentials: await liveCredentials(userId) };
    await expectError(
      await asKey(key, '/api/v1/auth/password', {
        method: 'POST',
        body: { currentPassword: 'gina first passphrase', newPassword: 'attacker chosen passphrase' },
      }),
      403,
      'FORBIDDEN',
    );
    expect({ user: await userRow(userId), credentials: await liveCredentials(userId) }).toEqual(before);
    expect(await auditOf('auth.password.changed', userId)).toEqual([]);
    await login('gina@example.com', 'gina first passphrase');
  });
});
