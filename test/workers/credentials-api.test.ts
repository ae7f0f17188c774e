import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { expectError, ORIGIN } from './helpers';
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

const VALUE = 'ghp_Zq8mN3vR7tY1wX5kP9sL2dF6hJ4bC0aE8uI7';
let owner: Session;
const seen: string[] = [];

async function keep(res: Response): Promise<Response> {
  seen.push(await res.clone().text(), JSON.stringify([...res.headers]));
  return res;
}

beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
});

describe('credentials API', () => {
  it('PUT creates (201) then replaces (200) and shows only the mask', async () => {
    const created = await keep(
      await asSession(owner, '/api/v1/credentials/GITHUB_TOKEN', {
        method: 'PUT',
        body: { value: VALUE, allowedHosts: ['api.github.com'] },
      }),
    );
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      name: 'GITHUB_TOKEN',
      masked: `••••${VALUE.slice(-4)}`,
      allowedHosts: ['api.github.com'],
    });
    const replaced = await keep(await asSession(owner, '/api/v1/credentials/GITHUB_TOKEN', { method: 'PUT', body: { value: VALUE } }));
    expect(replaced.status).toBe(200);
    const listed = await keep(await asSession(owner, '/api/v1/credentials'));
    expect(((await listed.json()) as { credentials: unknown[] }).credentials).toHaveLength(1);
    await keep(await asSession(owner, '/api/v1/credentials/GITHUB_TOKEN'));
  });

  it('never lets the value reach D1, a response, or the audit export', async () => {
    const { key } = await createKey(owner, ['audit:read']);
    await keep(await asKey(key, '/api/v1/audit/export'));
    expect(seen).toHaveLength(10); // body and headers of the 5 responses kept so far
    for (const text of seen) expect(text).not.toContain(VALUE);
    expect(await dumpDatabase()).not.toContain(VALUE);
  });

  // Each value is a distinctive probe, so "not echoed" can fail: a bare 'x' checked against
  // 'xxxxxxxx' never could.
  it.each([
    ['a lower-case name', '/api/v1/credentials/github_token', { value: 'echo-probe-lower-case-name' }, 'echo-probe-lower-case-name'],
    ['a name starting with a digit', '/api/v1/credentials/1TOKEN', { value: 'echo-probe-digit-name' }, 'echo-probe-digit-name'],
    ['a value over 16 KiB', '/api/v1/credentials/BIG', { value: `echo-probe-big-${'x'.repeat(16 * 1024)}` }, 'echo-probe-big-'],
    [
      'an allowed host that is a URL',
      '/api/v1/credentials/HOSTY',
      { value: 'echo-probe-url-host', allowedHosts: ['https://api.github.com/'] },
      'echo-probe-url-host',
    ],
  ])('refuses %s with 400 without echoing the value; nothing stored', async (_label, path, body, probe) => {
    const before = await countRows('vault_secrets');
    const err = await expectError(await asSession(owner, path, { method: 'PUT', body }), 400, 'VALIDATION_ERROR');
    expect(JSON.stringify(err)).not.toContain(probe);
    expect(JSON.stringify(err)).not.toContain('https://api.github.com/');
    expect(await countRows('vault_secrets')).toBe(before);
  });

  it('needs credentials:write to change and agents:read to list', async () => {
    const reader = await createKey(owner, ['agents:read']);
    expect((await asKey(reader.key, '/api/v1/credentials')).status).toBe(200);
    const vaultRows = async () => (await env.DB.prepare('SELECT * FROM vault_secrets ORDER BY id').all()).results;
    const credentialEvents = async () =>
      (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_events WHERE kind LIKE 'credential.%'").first<{ n: number }>())?.n;
    const before = { rows: await vaultRows(), events: await credentialEvents() };
    expect(before.rows.length).toBeGreaterThan(0);
    await expectError(await asKey(reader.key, '/api/v1/credentials/NEW_ONE', { method: 'PUT', body: { value: 'v' } }), 403, 'FORBIDDEN');
    await expectError(
      await asKey(reader.key, '/api/v1/credentials/GITHUB_TOKEN', { method: 'PUT', body: { value: 'attacker value 1234' } }),
      403,
      'FORBIDDEN',
    );
    await expectError(await asKey(reader.key, '/api/v1/credentials/GITHUB_TOKEN', { method: 'DELETE' }), 403, 'FORBIDDEN');
    // Nothing written, replaced or deleted, and nothing audited as if it had been.
    expect({ rows: await vaultRows(), events: await credentialEvents() }).toEqual(before);
  });

  it('DELETE answers 204 then 404', async () => {
    await asSession(owner, '/api/v1/credentials/TEMP', { method: 'PUT', body: { value: 'temporary value 123' } });
    expect((await asSession(owner, '/api/v1/credentials/TEMP', { method: 'DELETE' })).status).toBe(204);
    await expectError(await asSession(owner, '/api/v1/credentials/TEMP', { method: 'DELETE' }), 404, 'NOT_FOUND');
  });

  it('refuses every credential route with 503 when the keyring is missing or too short, and writes nothing', async () => {
    const app = createApp({ loginThrottle: testThrottle });
    for (const VAULT_KEYS of [undefined, 'k1:c2hvcnQ=', 'garbage']) {
      const res = await app.fetch(
        new Request(`${ORIGIN}/api/v1/credentials/OTHER`, {
          method: 'PUT',
          headers: { Cookie: owner.cookie, 'X-CSRF-Token': owner.csrfToken, 'Content-Type': 'application/json' },
          body: JSON.stringify({ value: 'should not be stored' }),
        }),
        { ...env, VAULT_KEYS },
      );
      await expectError(res, 503, 'SERVICE_UNAVAILABLE');
    }
    // Quoted: the bare name could turn up by chance inside some other row's base64.
    const dump = await dumpDatabase();
    expect(dump).not.toContain('"OTHER"');
    expect(dump).not.toContain('should not be stored');
  });
});

describe('vault rotation over HTTP', () => {
  it('re-encrypts under a new first key; afterwards the old key can be removed', async () => {
    const k1 = env.VAULT_KEYS ?? '';
    const k2 = 'k2:' + btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const rotated = { ...env, VAULT_KEYS: `${k2},${k1}` };
    const onlyK2 = { ...env, VAULT_KEYS: k2 };
    const app = createApp({ loginThrottle: testThrottle });
    const call = (path: string, e: typeof env, method = 'GET', body?: unknown) =>
      app.fetch(
        new Request(`${ORIGIN}${path}`, {
          method,
          headers: { Cookie: owner.cookie, 'X-CSRF-Token': owner.csrfToken, ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }),
        e,
      );
    await asSession(owner, '/api/v1/credentials/ROTATE_ME', { method: 'PUT', body: { value: 'value sealed under k1' } });

    const report = (await (await call('/api/v1/admin/vault/rotate', rotated, 'POST', { batchSize: 50 })).json()) as {
      remaining: number;
      activeKeyId: string;
    };
    expect(report).toMatchObject({ remaining: 0, activeKeyId: 'k2' });
    expect((await call('/api/v1/credentials/ROTATE_ME', onlyK2)).status).toBe(200);
  });

  it('is for the instance owner only: another admin gets 403', async () => {
    await inviteUser(owner, 'admin@example.com', 'admin', 'admin passphrase long enough');
    const admin = await login('admin@example.com', 'admin passphrase long enough');
    await expectError(await asSession(admin, '/api/v1/admin/vault/rotate', { method: 'POST', body: {} }), 403, 'FORBIDDEN');
  });
});
