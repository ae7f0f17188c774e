import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, postJson } from './helpers';
import { asKey, asSession, countRows, createKey, inviteUser, login, OWNER, setupInstance, type Session } from './identity-helpers';

// Attempts found in review: each must fail and leave nothing changed.
let owner: Session;
let instanceOwnerId: string;

async function tokenRows() {
  return (await env.DB.prepare('SELECT id, user_id, purpose, used_at FROM one_time_tokens ORDER BY id').all()).results;
}
async function userRows() {
  return (await env.DB.prepare('SELECT id, role, password_hash, updated_at FROM users ORDER BY id').all()).results;
}
async function auditCount(kind: string): Promise<number> {
  return (await env.DB.prepare('SELECT COUNT(*) AS n FROM audit_events WHERE kind = ?').bind(kind).first<{ n: number }>())?.n ?? 0;
}

beforeAll(async () => {
  instanceOwnerId = (await setupInstance()).userId;
  owner = await login(OWNER.email, OWNER.password);
});

describe('password-reset issuance cannot be turned into an account takeover', () => {
  it('a leaked admin key cannot issue a reset for a member its creator outranks; the creator’s session can (no token written by the key)', async () => {
    const memberId = await inviteUser(owner, 'member@example.com', 'operator', 'member first passphrase');
    const { key } = await createKey(owner, ['admin']);
    const before = await tokenRows();
    const issuedBefore = await auditCount('auth.reset.issued');
    // The owner outranks the member, so only the "session, never a key" rule refuses this.
    await expectError(await asKey(key, `/api/v1/users/${memberId}/password-reset`, { method: 'POST' }), 403, 'FORBIDDEN');
    expect(await tokenRows()).toEqual(before);
    expect(await auditCount('auth.reset.issued')).toBe(issuedBefore);
    expect((await asSession(owner, `/api/v1/users/${memberId}/password-reset`, { method: 'POST' })).status).toBe(201);
  });

  it('nobody issues a reset for themselves, with a key or a session (no token written)', async () => {
    const adminId = await inviteUser(owner, 'adm@example.com', 'admin', 'admin first passphrase');
    const adm = await login('adm@example.com', 'admin first passphrase');
    const { key } = await createKey(adm, ['admin']);
    const before = await tokenRows();
    await expectError(await asKey(key, `/api/v1/users/${adminId}/password-reset`, { method: 'POST' }), 403, 'FORBIDDEN');
    await expectError(await asSession(adm, `/api/v1/users/${adminId}/password-reset`, { method: 'POST' }), 403, 'FORBIDDEN');
    expect(await tokenRows()).toEqual(before);
  });

  it('a co-owner cannot reset, demote or otherwise manage the instance owner', async () => {
    await inviteUser(owner, 'owner2@example.com', 'owner', 'second owner passphrase');
    const owner2 = await login('owner2@example.com', 'second owner passphrase');
    const before = await countRows('one_time_tokens');
    await expectError(await asSession(owner2, `/api/v1/users/${instanceOwnerId}/password-reset`, { method: 'POST' }), 403, 'FORBIDDEN');
    await expectError(
      await asSession(owner2, `/api/v1/users/${instanceOwnerId}`, { method: 'PATCH', body: { role: 'viewer' } }),
      403,
      'FORBIDDEN',
    );
    expect(await countRows('one_time_tokens')).toBe(before);
  });

  it('two owners cannot reset or demote each other (rank rule), and nothing changes', async () => {
    await inviteUser(owner, 'o1@example.com', 'owner', 'race owner one passphrase');
    await inviteUser(owner, 'o2@example.com', 'owner', 'race owner two passphrase');
    const o1 = await login('o1@example.com', 'race owner one passphrase');
    const o2 = await login('o2@example.com', 'race owner two passphrase');
    const before = { users: await userRows(), tokens: await tokenRows() };
    await expectError(await asSession(o1, `/api/v1/users/${o2.userId}/password-reset`, { method: 'POST' }), 403, 'FORBIDDEN');
    const [r1, r2] = await Promise.all([
      asSession(o1, `/api/v1/users/${o2.userId}`, { method: 'PATCH', body: { role: 'viewer' } }),
      asSession(o2, `/api/v1/users/${o1.userId}`, { method: 'PATCH', body: { role: 'viewer' } }),
    ]);
    expect([r1.status, r2.status]).toEqual([403, 403]);
    expect({ users: await userRows(), tokens: await tokenRows() }).toEqual(before);
  });

  it('two role changes racing on one member (instance owner and an admin, both allowed) cannot both apply to the role they read', async () => {
    // Mutual demotion never reaches the conditional update (rules 2 and 4 refuse one side),
    // so the race is two managers who may both change the same member at once.
    await inviteUser(owner, 'racer-admin@example.com', 'admin', 'racer admin passphrase');
    const admin = await login('racer-admin@example.com', 'racer admin passphrase');
    for (let round = 0; round < 3; round++) {
      const targetId = await inviteUser(owner, `contested${round}@example.com`, 'operator', 'contested member passphrase');
      const [r1, r2] = await Promise.all([
        asSession(owner, `/api/v1/users/${targetId}`, { method: 'PATCH', body: { role: 'viewer' } }),
        asSession(admin, `/api/v1/users/${targetId}`, { method: 'PATCH', body: { role: 'admin' } }),
      ]);
      const statuses = [r1.status, r2.status];
      expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
      // Every applied change names the role it replaced; two changes from the same
      // "operator" would mean one of them acted on a role that no longer held.
      const changes = await env.DB.prepare(
        "SELECT data FROM audit_events WHERE kind = 'user.role.changed' AND json_extract(data, '$.userId') = ? ORDER BY seq",
      )
        .bind(targetId)
        .all<{ data: string }>();
      const froms = changes.results.map((row) => (JSON.parse(row.data) as { from: string }).from);
      expect(froms.filter((from) => from === 'operator')).toHaveLength(1);
      expect(changes.results).toHaveLength(statuses.filter((status) => status === 200).length);
      const final = await env.DB.prepare('SELECT role FROM users WHERE id = ?').bind(targetId).first<{ role: string }>();
      const last = JSON.parse(changes.results.at(-1)!.data) as { to: string };
      expect(final?.role).toBe(last.to);
    }
  });

  it('a reset revokes the API keys the user had made', async () => {
    const userId = await inviteUser(owner, 'keyholder@example.com', 'operator', 'keyholder passphrase');
    const holder = await login('keyholder@example.com', 'keyholder passphrase');
    const { key } = await createKey(holder, ['agents:read']);
    const reset = await asSession(owner, `/api/v1/users/${userId}/password-reset`, { method: 'POST' });
    const { resetToken } = (await reset.json()) as { resetToken: string };
    expect((await postJson('/api/v1/auth/reset', { token: resetToken, newPassword: 'keyholder new passphrase' })).status).toBe(204);
    await expectError(await asKey(key, '/api/v1/me'), 401, 'UNAUTHENTICATED');
  });
});

describe('the current-password check of /auth/password is throttled like login', () => {
  it('a stolen session gets 429 after 10 wrong guesses, even with the right password', async () => {
    await inviteUser(owner, 'victim@example.com', 'viewer', 'victim real passphrase');
    const stolen = await login('victim@example.com', 'victim real passphrase');
    for (let i = 0; i < 10; i++) {
      await expectError(
        await asSession(stolen, '/api/v1/auth/password', {
          method: 'POST',
          body: { currentPassword: `guess number ${i}`, newPassword: 'attacker new passphrase' },
        }),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    const before = await env.DB.prepare('SELECT password_hash, updated_at FROM users WHERE id = ?').bind(stolen.userId).first();
    const changesBefore = await auditCount('auth.password.changed');
    const res = await asSession(stolen, '/api/v1/auth/password', {
      method: 'POST',
      body: { currentPassword: 'victim real passphrase', newPassword: 'attacker new passphrase' },
    });
    await expectError(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Locked out means nothing changed: same hash, the session still alive, no change audited.
    expect(await env.DB.prepare('SELECT password_hash, updated_at FROM users WHERE id = ?').bind(stolen.userId).first()).toEqual(before);
    expect((await asSession(stolen, '/api/v1/me')).status).toBe(200);
    expect(await auditCount('auth.password.changed')).toBe(changesBefore);
  });
});

describe('keys and agents', () => {
  it('a narrow key cannot revoke its creator’s other keys (404, key still works)', async () => {
    const admin = await createKey(owner, ['admin', 'agents:read']);
    const narrow = await createKey(owner, ['agents:read']);
    await expectError(await asKey(narrow.key, `/api/v1/api-keys/${admin.id}`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    expect((await asKey(admin.key, '/api/v1/me')).status).toBe(200);
    expect((await asKey(narrow.key, `/api/v1/api-keys/${narrow.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('deleting an agent deletes its connectors’ secrets from the vault', async () => {
    const agentId = (
      (await (await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'doomed' } })).json()) as { id: string }
    ).id;
    const con = await asSession(owner, `/api/v1/agents/${agentId}/connectors`, {
      method: 'POST',
      body: { platform: 'telegram', botToken: '123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ' },
    });
    const connectorId = ((await con.json()) as { id: string }).id;
    expect((await asSession(owner, `/api/v1/agents/${agentId}`, { method: 'DELETE' })).status).toBe(204);
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM vault_secrets WHERE owner_kind = 'connector' AND owner_id = ?")
      .bind(connectorId)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
  });

  it('a trailing slash is a different path: 404, not 405', async () => {
    await expectError(await asSession(owner, '/api/v1/agents/'), 404, 'NOT_FOUND');
  });
});
