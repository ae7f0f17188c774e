import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { aheadOfRealNow } from './clock';
import { expectError, ORIGIN, postJson, send } from './helpers';
import { asSession, countRows, dumpDatabase, inviteUser, login, OWNER, setupInstance, testThrottle } from './identity-helpers';

beforeAll(async () => {
  await setupInstance();
});

/** The error body with its per-request id blanked, for byte-for-byte comparison. */
async function normalisedBody(res: Response): Promise<string> {
  const id = res.headers.get('X-Request-Id') ?? '';
  return (await res.text()).replace(id, '<request-id>');
}

describe('login', () => {
  it('answers unknown email and wrong password with byte-identical 401 bodies and headers', async () => {
    const unknown = await postJson(
      '/api/v1/auth/login',
      { email: 'nobody@example.com', password: 'some long password here' },
      { 'CF-Connecting-IP': '198.51.100.1' },
    );
    const wrong = await postJson(
      '/api/v1/auth/login',
      { email: OWNER.email, password: 'some long password here' },
      { 'CF-Connecting-IP': '198.51.100.1' },
    );
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const headerNames = (res: Response) => [...res.headers.keys()].filter((h) => h !== 'x-request-id').sort();
    expect(headerNames(unknown)).toEqual(headerNames(wrong));
    expect(await normalisedBody(unknown)).toBe(await normalisedBody(wrong));
    expect(unknown.headers.get('Set-Cookie')).toBeNull();
  });

  it('sets a __Host- session cookie that is HttpOnly, Secure, SameSite=Lax, Path=/ and returns a CSRF token', async () => {
    const res = await postJson('/api/v1/auth/login', OWNER);
    expect(res.status).toBe(200);
    const cookie = res.headers.get('Set-Cookie') ?? '';
    expect(cookie).toMatch(/^__Host-portcullis_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toMatch(/Domain=/i);
    const body = (await res.json()) as { csrfToken: string; user: Record<string, unknown> };
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.user).not.toHaveProperty('passwordHash');
  });

  it('stores only hashes of the session and CSRF tokens', async () => {
    const session = await login(OWNER.email, OWNER.password);
    const dump = await dumpDatabase();
    expect(dump).not.toContain(session.cookie.split('=')[1]);
    expect(dump).not.toContain(session.csrfToken);
  });

  it('issues a new session token at every login', async () => {
    const a = await login(OWNER.email, OWNER.password);
    const b = await login(OWNER.email, OWNER.password);
    expect(a.cookie).not.toBe(b.cookie);
    expect(a.csrfToken).not.toBe(b.csrfToken);
  });

  it('shows the caller at GET /api/v1/me and refuses without credentials', async () => {
    const session = await login(OWNER.email, OWNER.password);
    const me = (await (await asSession(session, '/api/v1/me')).json()) as { user: { email: string; role: string }; auth: { kind: string } };
    expect(me.user).toMatchObject({ email: OWNER.email, role: 'owner' });
    expect(me.auth.kind).toBe('session');
    await expectError(await send('/api/v1/me'), 401, 'UNAUTHENTICATED');
    await expectError(await send('/api/v1/me', { headers: { Cookie: '__Host-portcullis_session=forged' } }), 401, 'UNAUTHENTICATED');
  });

  it('logout revokes the session', async () => {
    const session = await login(OWNER.email, OWNER.password);
    const res = await asSession(session, '/api/v1/auth/logout', { method: 'POST' });
    expect(res.status).toBe(204);
    expect(res.headers.get('Set-Cookie')).toMatch(/__Host-portcullis_session=;/);
    await expectError(await asSession(session, '/api/v1/me'), 401, 'UNAUTHENTICATED');
  });
});

describe('CSRF on cookie-authenticated writes', () => {
  const attempts: Array<[string, (s: { cookie: string; csrfToken: string }) => Record<string, string>]> = [
    ['no X-CSRF-Token', (s) => ({ Cookie: s.cookie })],
    [
      'a wrong X-CSRF-Token',
      (s) => ({ Cookie: s.cookie, 'X-CSRF-Token': `${s.csrfToken.slice(0, -1)}${s.csrfToken.endsWith('A') ? 'B' : 'A'}` }),
    ],
    ['another session’s token', (s) => ({ Cookie: s.cookie, 'X-CSRF-Token': 'A'.repeat(43) })],
    ['a cross-origin Origin', (s) => ({ Cookie: s.cookie, 'X-CSRF-Token': s.csrfToken, Origin: 'https://evil.example' })],
    ['a look-alike Origin', (s) => ({ Cookie: s.cookie, 'X-CSRF-Token': s.csrfToken, Origin: `${ORIGIN}.evil.example` })],
    ['the null Origin', (s) => ({ Cookie: s.cookie, 'X-CSRF-Token': s.csrfToken, Origin: 'null' })],
  ];

  it.each(attempts)('refuses %s with 403 CSRF_FAILED and creates no key', async (_label, headersFor) => {
    const session = await login(OWNER.email, OWNER.password);
    const before = await countRows('api_keys');
    const res = await send('/api/v1/api-keys', {
      method: 'POST',
      headers: { ...headersFor(session), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'csrf', scopes: ['agents:read'] }),
    });
    await expectError(res, 403, 'CSRF_FAILED');
    expect(await countRows('api_keys')).toBe(before);
  });

  it('accepts the right token with a same-origin Origin or none', async () => {
    const session = await login(OWNER.email, OWNER.password);
    for (const origin of [ORIGIN, undefined]) {
      const res = await asSession(session, '/api/v1/api-keys', {
        method: 'POST',
        body: { name: 'ok', scopes: ['agents:read'] },
        headers: origin ? { Origin: origin } : {},
      });
      expect(res.status).toBe(201);
    }
  });
});

describe('session expiry (clock injected)', () => {
  it('expires after 24 h idle and after 7 days absolute, and a touched session lives on', async () => {
    let now = aheadOfRealNow();
    const app = createApp({ now: () => now, loginThrottle: testThrottle });
    const call = (path: string, init?: RequestInit) => app.fetch(new Request(`${ORIGIN}${path}`, init), env);
    const res = await call('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(OWNER),
    });
    const cookie = (res.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';
    const me = () => call('/api/v1/me', { headers: { Cookie: cookie } });

    now += 23 * 3600_000; // 23 h idle: still valid, and this use touches it
    expect((await me()).status).toBe(200);
    now += 23 * 3600_000; // 23 h after the touch: valid again
    expect((await me()).status).toBe(200);
    now += 24 * 3600_000 + 1000; // over 24 h idle
    expect((await me()).status).toBe(401);

    const fresh = await call('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(OWNER),
    });
    const cookie2 = (fresh.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';
    for (let day = 0; day < 6; day++) {
      now += 20 * 3600_000;
      expect((await call('/api/v1/me', { headers: { Cookie: cookie2 } })).status).toBe(200);
    }
    now += 2 * 24 * 3600_000 - 6 * 20 * 3600_000 + 7 * 24 * 3600_000 - 2 * 24 * 3600_000; // past 7 days since login
    expect((await call('/api/v1/me', { headers: { Cookie: cookie2 } })).status).toBe(401);
  });
});

describe('brute-force lockout', () => {
  async function failedLogins() {
    const rows = await env.DB.prepare("SELECT actor, data FROM audit_events WHERE kind = 'auth.login.failed'").all<{
      actor: string;
      data: string;
    }>();
    return rows.results.map((r) => ({ actor: r.actor, data: JSON.parse(r.data) as { reason: string; emailHash: string } }));
  }

  it('after 10 failures from one address, that address gets 429 with Retry-After even with the right password; the owner elsewhere still signs in', async () => {
    const owner = await login(OWNER.email, OWNER.password);
    const victim = 'lockout-victim@example.com';
    const password = 'victim passphrase that is long';
    const victimId = await inviteUser(owner, victim, 'viewer', password);
    const attacker = '192.0.2.66';
    for (let i = 0; i < 10; i++) {
      const res = await postJson(
        '/api/v1/auth/login',
        { email: victim, password: `wrong password number ${i}` },
        { 'CF-Connecting-IP': attacker },
      );
      expect(res.status).toBe(401);
    }
    const sessionsBefore = await countRows('sessions');
    const res = await postJson('/api/v1/auth/login', { email: victim, password }, { 'CF-Connecting-IP': attacker });
    await expectError(res, 429, 'RATE_LIMITED');
    const retryAfter = Number(res.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(res.headers.get('Set-Cookie')).toBeNull();
    expect(await countRows('sessions')).toBe(sessionsBefore);
    expect((await failedLogins()).filter((e) => e.actor === `ip:${attacker}` && e.data.reason === 'locked-out')).toHaveLength(1);
    // The owner of the account, from their own address, is not locked out by the attacker.
    const own = await login(victim, password, '198.51.100.77');
    expect(own.userId).toBe(victimId);
    // Other accounts are unaffected, even from the attacker's address.
    expect((await postJson('/api/v1/auth/login', OWNER, { 'CF-Connecting-IP': attacker })).status).toBe(200);
  });

  it('the per-account ceiling still holds against many addresses (limits lowered through RATE_LIMITS)', async () => {
    const owner = await login(OWNER.email, OWNER.password);
    const victim = 'ceiling-victim@example.com';
    const password = 'ceiling victim passphrase';
    await inviteUser(owner, victim, 'viewer', password);
    const app = createApp({ loginThrottle: testThrottle });
    const bindings = {
      ...env,
      RATE_LIMITS: JSON.stringify({ 'login-failures': { limit: 2, windowS: 900 }, 'login-failures-account': { limit: 5, windowS: 900 } }),
    };
    const attempt = (pass: string, ip: string) =>
      app.fetch(
        new Request(`${ORIGIN}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
          body: JSON.stringify({ email: victim, password: pass }),
        }),
        bindings,
      );
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 2; j++) statuses.push((await attempt(`guess ${i} ${j} long enough`, `203.0.113.${i + 1}`)).status);
    // Two per address, but the account stops at five failures in all.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const sessionsBefore = await countRows('sessions');
    const res = await attempt(password, '203.0.113.99');
    await expectError(res, 429, 'RATE_LIMITED');
    expect(await countRows('sessions')).toBe(sessionsBefore);
  });
});
