import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postJson, send } from './helpers';
import { OWNER, SETUP_TOKEN } from './identity-helpers';

/** Everything a client or an operator can see: response bodies and headers, and console output. */
const seen: string[] = [];
const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
  vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
    seen.push(args.map(String).join(' '));
  }),
);
afterAll(() => spies.forEach((spy) => spy.mockRestore()));

async function record(res: Response): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const text = await res.text();
  seen.push(text, JSON.stringify([...res.headers]));
  const isJson = res.headers.get('Content-Type')?.startsWith('application/json') ?? false;
  return { status: res.status, body: isJson ? (JSON.parse(text) as Record<string, unknown>) : {}, text };
}

const secrets: Record<string, string> = { setupToken: SETUP_TOKEN, ownerPassword: OWNER.password };
/** Secrets that one response legitimately shows once: which response may contain them. */
const shownOnce = new Map<string, string>();

beforeAll(async () => {
  const ip = { 'CF-Connecting-IP': '203.0.113.77' };
  await record(await postJson('/api/v1/setup', { token: SETUP_TOKEN, workspace: 'Acme', ...OWNER }));
  await record(await postJson('/api/v1/auth/login', { email: OWNER.email, password: 'a wrong but long password' }, ip));
  await record(await postJson('/api/v1/auth/login', { email: 'ghost@example.com', password: OWNER.password }, ip));
  const login = await postJson('/api/v1/auth/login', OWNER, ip);
  const cookie = (login.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';
  secrets.sessionToken = cookie.split('=')[1] ?? '';
  const loginBody = await record(login);
  secrets.csrfToken = String(loginBody.body.csrfToken);
  shownOnce.set(secrets.csrfToken, loginBody.text);
  seen.pop(); // the Set-Cookie header of the login response carries the session token by design
  seen.pop();
  seen.push(loginBody.text);

  const as = (path: string, method = 'GET', body?: unknown) =>
    send(path, {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': secrets.csrfToken ?? '', ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  const key = await record(await as('/api/v1/api-keys', 'POST', { name: 'ci', scopes: ['agents:read', 'audit:read'] }));
  secrets.apiKey = String(key.body.key);
  shownOnce.set(secrets.apiKey, key.text);
  const invite = await record(await as('/api/v1/users', 'POST', { email: 'new@example.com', role: 'operator' }));
  secrets.inviteToken = String(invite.body.inviteToken);
  shownOnce.set(secrets.inviteToken, invite.text);
  secrets.invitedPassword = 'invited user passphrase';
  await record(await postJson('/api/v1/auth/accept-invite', { token: secrets.inviteToken, password: secrets.invitedPassword }));
  const user = invite.body.user as { id: string };
  const reset = await record(await as(`/api/v1/users/${user.id}/password-reset`, 'POST'));
  secrets.resetToken = String(reset.body.resetToken);
  shownOnce.set(secrets.resetToken, reset.text);
  secrets.resetPassword = 'reset user passphrase!';
  await record(await postJson('/api/v1/auth/reset', { token: secrets.resetToken, newPassword: secrets.resetPassword }));
  secrets.newOwnerPassword = 'owner changed passphrase';
  await record(await as('/api/v1/auth/password', 'POST', { currentPassword: OWNER.password, newPassword: secrets.newOwnerPassword }));
  await record(await send('/api/v1/me', { headers: { Authorization: `Bearer ${secrets.apiKey}` } }));
  await record(await send('/api/v1/audit/export', { headers: { Authorization: `Bearer ${secrets.apiKey}` } }));
  await record(await as('/api/v1/users'));
  await record(await as('/api/v1/api-keys'));

  // Stored hashes must not leak either.
  const hashes = await env.DB.prepare(
    'SELECT password_hash AS h FROM users UNION ALL SELECT token_hash FROM sessions UNION ALL SELECT csrf_token_hash FROM sessions UNION ALL SELECT key_hash FROM api_keys UNION ALL SELECT token_hash FROM one_time_tokens',
  ).all<{ h: string | null }>();
  hashes.results.forEach((row, i) => {
    if (row.h) secrets[`hash${i}`] = row.h;
  });
});

describe('no token, password or hash in any response, log line or audit event', () => {
  it('collected the flows it claims to check', () => {
    expect(Object.keys(secrets).length).toBeGreaterThan(15);
    expect(seen.length).toBeGreaterThan(20);
  });

  it.each([
    'setupToken',
    'ownerPassword',
    'sessionToken',
    'csrfToken',
    'apiKey',
    'inviteToken',
    'invitedPassword',
    'resetToken',
    'resetPassword',
    'newOwnerPassword',
  ])('%s appears only where it is shown once', (name) => {
    const secret = secrets[name] ?? '';
    expect(secret.length).toBeGreaterThan(8);
    const leaks = seen.filter((text) => text.includes(secret) && text !== shownOnce.get(secret));
    expect(leaks).toEqual([]);
  });

  it('no stored hash (password PHC, token SHA-256) appears anywhere', () => {
    const hashNames = Object.keys(secrets).filter((k) => k.startsWith('hash'));
    expect(hashNames.length).toBeGreaterThan(5);
    for (const name of hashNames) expect(seen.filter((text) => text.includes(secrets[name] ?? '\u0000'))).toEqual([]);
  });

  it('the audit log holds no secret at all', async () => {
    const rows = await env.DB.prepare('SELECT * FROM audit_events').all();
    const dump = JSON.stringify(rows.results);
    expect(rows.results.length).toBeGreaterThan(8);
    for (const [name, secret] of Object.entries(secrets)) expect(dump.includes(secret), name).toBe(false);
  });
});
