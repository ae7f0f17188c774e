import { beforeAll, describe, expect, it } from 'vitest';
import { formTokenOf, postForm } from './dashboard-helpers';
import { expectError, postJson } from './helpers';
import { asSession, countRows, login, OWNER, setupInstance, type Session } from './identity-helpers';

let apiSession: Session;

beforeAll(async () => {
  await setupInstance();
  apiSession = await login(OWNER.email, OWNER.password);
});

const createKeyForm = (session: Session, csrf: string | undefined, headers: Record<string, string> = {}) =>
  postForm(
    '/keys',
    { ...(csrf === undefined ? {} : { _csrf: csrf }), name: 'from a form', scopes: 'agents:read' },
    { cookie: session.cookie, headers },
  );

describe('dashboard forms for a session opened by POST /api/v1/auth/login (no dashboard sign-in)', () => {
  it('renders a form token into the page and accepts the form posted with it', async () => {
    const before = await countRows('api_keys');
    const token = await formTokenOf(apiSession, '/keys');
    const res = await createKeyForm(apiSession, token);
    expect(res.status).toBe(201);
    expect(await res.text()).toContain('from a form');
    expect(await countRows('api_keys')).toBe(before + 1);
  });

  it('renders the same token on every page of one session, and a different one for another session', async () => {
    const other = await login(OWNER.email, OWNER.password);
    expect(await formTokenOf(apiSession, '/agents')).toBe(await formTokenOf(apiSession, '/keys'));
    expect(await formTokenOf(other, '/keys')).not.toBe(await formTokenOf(apiSession, '/keys'));
  });

  it.each([
    ['no field', () => undefined],
    ['the API’s CSRF token in the field', () => apiSession.csrfToken],
    ['another session’s form token', async () => formTokenOf(await login(OWNER.email, OWNER.password), '/keys')],
    ['a made-up token', () => 'A'.repeat(43)],
  ])('refuses a form post with %s (403 CSRF_FAILED, no key written)', async (_name, token) => {
    const before = await countRows('api_keys');
    const res = await createKeyForm(apiSession, await token());
    expect(res.status).toBe(403);
    expect(await countRows('api_keys')).toBe(before);
  });

  it('refuses the form token as the API’s X-CSRF-Token (a form token never satisfies an API route)', async () => {
    const before = await countRows('api_keys');
    const formToken = await formTokenOf(apiSession, '/keys');
    const res = await asSession({ ...apiSession, csrfToken: formToken }, '/api/v1/api-keys', {
      method: 'POST',
      body: { name: 'x', scopes: ['agents:read'] },
    });
    await expectError(res, 403, 'CSRF_FAILED');
    expect(await countRows('api_keys')).toBe(before);
  });

  it('stops working when the session ends (sign-out through the API)', async () => {
    const session = await login(OWNER.email, OWNER.password);
    const token = await formTokenOf(session, '/keys');
    expect((await asSession(session, '/api/v1/auth/logout', { method: 'POST' })).status).toBe(204);
    const res = await createKeyForm(session, token);
    expect(res.status).toBe(303);
    expect(res.headers.get('Location')).toBe('/sign-in');
  });

  it('signs in on the dashboard with one cookie only (the session; no second CSRF cookie)', async () => {
    const res = await postForm('/sign-in', { email: OWNER.email, password: OWNER.password });
    expect(res.status).toBe(303);
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^__Host-portcullis_session=/);
    const session = { ...apiSession, cookie: cookies[0]?.split(';')[0] ?? '' };
    expect((await createKeyForm(session, await formTokenOf(session, '/keys'))).status).toBe(201);
  });
});

describe('the dashboard’s credential-taking pages share the auth-ip bucket with /api/v1/auth/*', () => {
  it('answers the 21st sign-in POST in a minute from one IP with 429, counting API logins too', async () => {
    const ip = { 'CF-Connecting-IP': '198.51.100.77' };
    // An empty password is refused by the page before any Argon2id work: only the count matters here.
    const signInPost = () => postForm('/sign-in', { email: 'someone@example.com', password: '' }, { headers: ip });
    for (let i = 0; i < 15; i++) expect((await signInPost()).status).toBe(400);
    for (let i = 0; i < 5; i++) await expectError(await postJson('/api/v1/auth/login', {}, ip), 400, 'VALIDATION_ERROR');
    const res = await signInPost();
    await expectError(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('Retry-After')).toMatch(/^\d+$/);
    // Another address is not affected.
    expect(
      (await postForm('/sign-in', { email: 'someone@example.com', password: '' }, { headers: { 'CF-Connecting-IP': '198.51.100.78' } }))
        .status,
    ).toBe(400);
  });

  it.each(['/setup', '/accept-invite', '/reset', '/account/password'])('counts %s in the same bucket', async (path) => {
    const ip = { 'CF-Connecting-IP': `198.51.100.${100 + ['/setup', '/accept-invite', '/reset', '/account/password'].indexOf(path)}` };
    for (let i = 0; i < 20; i++) await postJson('/api/v1/auth/login', {}, ip);
    await expectError(await postForm(path, {}, { headers: ip }), 429, 'RATE_LIMITED');
  });
});
