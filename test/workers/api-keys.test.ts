import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { expectError, ORIGIN, send } from './helpers';
import {
  asKey,
  asSession,
  countRows,
  createKey,
  dumpDatabase,
  inviteUser,
  login,
  OWNER,
  setupInstance,
  testThrottle,
  type Session,
} from './identity-helpers';

let owner: Session;
let viewer: Session;

beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
  await inviteUser(owner, 'viewer@example.com', 'viewer', 'viewer passphrase long enough');
  viewer = await login('viewer@example.com', 'viewer passphrase long enough');
});

describe('API keys', () => {
  it('shows the key once: pcl_ + 49 base62 characters, never again in listings or storage', async () => {
    const created = await createKey(owner, ['agents:read', 'audit:read']);
    expect(created.key).toMatch(/^pcl_[0-9A-Za-z]{49}$/);
    const listing = await (await asSession(owner, '/api/v1/api-keys')).text();
    expect(listing).not.toContain(created.key);
    expect(listing).toContain(created.key.slice(-4));
    expect(await dumpDatabase()).not.toContain(created.key);
    const me = (await (await asKey(created.key, '/api/v1/me')).json()) as { auth: { kind: string; scopes: string[] } };
    expect(me.auth).toEqual({ kind: 'api_key', scopes: ['agents:read', 'audit:read'] });
  });

  it.each([
    ['a made-up key', 'pcl_' + 'a'.repeat(49)],
    ['a key with a broken checksum', null],
    ['not a key at all', 'hunter2'],
    ['an empty bearer', ''],
  ])('refuses %s with 401', async (_label, fixed) => {
    const real = await createKey(owner, ['agents:read']);
    const key = fixed ?? `${real.key.slice(0, -1)}${real.key.endsWith('0') ? '1' : '0'}`;
    await expectError(await send('/api/v1/me', { headers: { Authorization: `Bearer ${key}` } }), 401, 'UNAUTHENTICATED');
  });

  it('revocation takes effect on the next request', async () => {
    const { id, key } = await createKey(owner, ['agents:read']);
    expect((await asKey(key, '/api/v1/me')).status).toBe(200);
    expect((await asSession(owner, `/api/v1/api-keys/${id}`, { method: 'DELETE' })).status).toBe(204);
    await expectError(await asKey(key, '/api/v1/me'), 401, 'UNAUTHENTICATED');
  });

  it('an expired key is refused from its expiry instant on (clock injected)', async () => {
    // The key is made on the real clock; the injected clock then starts from the expiry the
    // gateway stored, so the test does not depend on how long creating the key took.
    const { key, expiresAt } = await createKey(owner, ['agents:read'], { expiresInDays: 1 });
    if (expiresAt === null) throw new Error('a key made with expiresInDays must have an expiry');
    let now = expiresAt - 1;
    const app = createApp({ now: () => now, loginThrottle: testThrottle });
    const me = () => app.fetch(new Request(`${ORIGIN}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } }), env);
    expect((await me()).status).toBe(200);
    now = expiresAt;
    await expectError(await me(), 401, 'UNAUTHENTICATED');
  });

  it('is exempt from CSRF (no cookie, no token needed)', async () => {
    const { key } = await createKey(owner, ['admin', 'agents:read']);
    const res = await asKey(key, '/api/v1/api-keys', { method: 'POST', body: { name: 'from a key', scopes: ['agents:read'] } });
    expect(res.status).toBe(201);
    // `admin` is not a wildcard: the key still cannot hand out scopes it does not hold.
    await expectError(
      await asKey(key, '/api/v1/api-keys', { method: 'POST', body: { name: 'wider', scopes: ['tools:invoke'] } }),
      403,
      'FORBIDDEN',
    );
  });
});

describe('scope escalation attempts', () => {
  it('a viewer cannot create a key with scopes the viewer lacks', async () => {
    const before = await countRows('api_keys');
    for (const scopes of [['admin'], ['agents:write'], ['agents:read', 'credentials:write']]) {
      await expectError(await asSession(viewer, '/api/v1/api-keys', { method: 'POST', body: { name: 'x', scopes } }), 403, 'FORBIDDEN');
    }
    expect(await countRows('api_keys')).toBe(before);
  });

  it('a narrow key cannot mint another key, even a narrower one', async () => {
    const { key } = await createKey(owner, ['agents:read', 'agents:write']);
    const before = await countRows('api_keys');
    await expectError(
      await asKey(key, '/api/v1/api-keys', { method: 'POST', body: { name: 'x', scopes: ['agents:read'] } }),
      403,
      'FORBIDDEN',
    );
    expect(await countRows('api_keys')).toBe(before);
  });

  it('a key outside its scopes gets 403: no audit:read, no admin', async () => {
    const { key } = await createKey(owner, ['agents:read']);
    await expectError(await asKey(key, '/api/v1/audit'), 403, 'FORBIDDEN');
    await expectError(await asKey(key, '/api/v1/users'), 403, 'FORBIDDEN');
    const invitesBefore = { tokens: await countRows('one_time_tokens'), users: await countRows('users') };
    await expectError(
      await asKey(key, '/api/v1/users', { method: 'POST', body: { email: 'x@example.com', role: 'admin' } }),
      403,
      'FORBIDDEN',
    );
    expect({ tokens: await countRows('one_time_tokens'), users: await countRows('users') }).toEqual(invitesBefore);
  });

  it('a key loses scopes its creator no longer has (demotion applies at use)', async () => {
    await inviteUser(owner, 'admin2@example.com', 'admin', 'admin passphrase long enough');
    const admin2 = await login('admin2@example.com', 'admin passphrase long enough');
    const { key } = await createKey(admin2, ['admin', 'audit:read']);
    expect((await asKey(key, '/api/v1/audit')).status).toBe(200);
    const res = await asSession(owner, `/api/v1/users/${admin2.userId}`, { method: 'PATCH', body: { role: 'viewer' } });
    expect(res.status).toBe(200);
    await expectError(await asKey(key, '/api/v1/audit'), 403, 'FORBIDDEN');
  });

  it('an admin cannot invite an owner, and nobody changes their own role', async () => {
    await inviteUser(owner, 'admin3@example.com', 'admin', 'admin three passphrase long');
    const admin3 = await login('admin3@example.com', 'admin three passphrase long');
    const snapshot = async () => ({
      users: (await env.DB.prepare('SELECT id, email, role, updated_at FROM users ORDER BY id').all()).results,
      tokens: await countRows('one_time_tokens'),
      events: (
        await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE kind IN ('user.role.changed', 'auth.invite.issued')").first<{
          n: number;
        }>()
      )?.n,
    });
    const before = await snapshot();
    await expectError(
      await asSession(admin3, '/api/v1/users', { method: 'POST', body: { email: 'boss@example.com', role: 'owner' } }),
      403,
      'FORBIDDEN',
    );
    await expectError(
      await asSession(admin3, `/api/v1/users/${admin3.userId}`, { method: 'PATCH', body: { role: 'owner' } }),
      403,
      'FORBIDDEN',
    );
    await expectError(
      await asSession(admin3, `/api/v1/users/${owner.userId}`, { method: 'PATCH', body: { role: 'viewer' } }),
      403,
      'FORBIDDEN',
    );
    // No user row, role, invitation token or audit event came of it.
    expect(await snapshot()).toEqual(before);
  });

  it('only the instance owner creates workspaces', async () => {
    await expectError(
      await asSession(viewer, '/api/v1/workspaces', { method: 'POST', body: { name: 'Mine', ownerEmail: 'me2@example.com' } }),
      403,
      'FORBIDDEN',
    );
    const { key } = await createKey(owner, ['agents:read']);
    await expectError(
      await asKey(key, '/api/v1/workspaces', { method: 'POST', body: { name: 'Mine', ownerEmail: 'me3@example.com' } }),
      403,
      'FORBIDDEN',
    );
    expect(await countRows('workspaces')).toBe(1);
  });
});
