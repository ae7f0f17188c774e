import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, postJson } from './helpers';
import { asKey, asSession, countRows, createKey, login, OWNER, setupInstance, type Session } from './identity-helpers';

let ownerA: Session;
let ownerB: Session;
let keyA: { id: string; key: string };

beforeAll(async () => {
  await setupInstance('Workspace A');
  ownerA = await login(OWNER.email, OWNER.password);
  const res = await asSession(ownerA, '/api/v1/workspaces', {
    method: 'POST',
    body: { name: 'Workspace B', ownerEmail: 'owner-b@example.com' },
  });
  expect(res.status).toBe(201);
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'owner b passphrase long' })).status).toBe(204);
  ownerB = await login('owner-b@example.com', 'owner b passphrase long');
  keyA = await createKey(ownerA, ['agents:read']);
});

describe('workspace isolation: B acting on A’s resources by id', () => {
  it('cannot revoke A’s API key (404, key still works)', async () => {
    await expectError(await asSession(ownerB, `/api/v1/api-keys/${keyA.id}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    expect((await asKey(keyA.key, '/api/v1/me')).status).toBe(200);
  });

  it('cannot issue a password reset for A’s user (404, no token written)', async () => {
    const before = await countRows('one_time_tokens');
    await expectError(await asSession(ownerB, `/api/v1/users/${ownerA.userId}/password-reset`, { method: 'POST' }), 404, 'NOT_FOUND');
    expect(await countRows('one_time_tokens')).toBe(before);
  });

  it('cannot change the role of A’s user (404, role unchanged)', async () => {
    await expectError(
      await asSession(ownerB, `/api/v1/users/${ownerA.userId}`, { method: 'PATCH', body: { role: 'viewer' } }),
      404,
      'NOT_FOUND',
    );
    const me = (await (await asSession(ownerA, '/api/v1/me')).json()) as { user: { role: string } };
    expect(me.user.role).toBe('owner');
  });

  it('answers a foreign id exactly like a missing one', async () => {
    const foreign = await asSession(ownerB, `/api/v1/api-keys/${keyA.id}`, { method: 'DELETE' });
    const missing = await asSession(ownerB, '/api/v1/api-keys/key_00000000000000000000000000000000', { method: 'DELETE' });
    const strip = async (r: Response) => (await r.text()).replace(r.headers.get('X-Request-Id') ?? '', '');
    expect(foreign.status).toBe(missing.status);
    expect(await strip(foreign)).toBe(await strip(missing));
  });

  it('sees only its own users, keys and audit events', async () => {
    const users = (await (await asSession(ownerB, '/api/v1/users')).json()) as { users: Array<{ email: string }> };
    expect(users.users.map((u) => u.email)).toEqual(['owner-b@example.com']);
    const keys = (await (await asSession(ownerB, '/api/v1/api-keys')).json()) as { apiKeys: unknown[] };
    expect(keys.apiKeys).toEqual([]);
    const audit = (await (await asSession(ownerB, '/api/v1/audit')).json()) as { events: Array<{ workspaceId: string; kind: string }> };
    // B's own history only: the invitation that created its owner, its acceptance, the login.
    expect(audit.events.map((e) => e.kind)).toEqual(['auth.invite.issued', 'auth.invite.accepted', 'auth.login.succeeded']);
    expect(new Set(audit.events.map((e) => e.workspaceId))).toEqual(new Set([ownerB.workspaceId]));
  });
});
