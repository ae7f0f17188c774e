import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { expectError, ORIGIN, postJson, send } from './helpers';
import { countRows, OWNER, SETUP_TOKEN, testThrottle } from './identity-helpers';

describe('first-time setup', () => {
  it('reports that setup is needed on a fresh deployment', async () => {
    expect(await (await send('/api/v1/setup')).json()).toEqual({ needed: true });
  });

  it('refuses a wrong setup token with 401 and writes nothing', async () => {
    await expectError(await postJson('/api/v1/setup', { token: 'wrong', workspace: 'Acme', ...OWNER }), 401, 'INVALID_CREDENTIALS');
    await expectError(
      await postJson('/api/v1/setup', { token: `${SETUP_TOKEN}x`, workspace: 'Acme', ...OWNER }),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(await countRows('users')).toBe(0);
    expect(await countRows('workspaces')).toBe(0);
  });

  it('fails closed when SETUP_TOKEN is not configured (503)', async () => {
    const app = createApp({ loginThrottle: testThrottle });
    const unconfigured = { ...env, SETUP_TOKEN: undefined };
    const res = await app.fetch(
      new Request(`${ORIGIN}/api/v1/setup`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: 'x', workspace: 'Acme', ...OWNER }),
      }),
      unconfigured,
    );
    await expectError(res, 503, 'SERVICE_UNAVAILABLE');
    expect(await countRows('users')).toBe(0);
  });

  it.each([
    ['too short', 'short pw 1'],
    ['a common password', 'password1234'],
    ['a common password with decoration', '!!Password2024!!'],
    ['equal to the email', OWNER.email],
  ])('refuses a weak password (%s) with 400 naming only the field, and writes nothing', async (_label, password) => {
    const err = await expectError(
      await postJson('/api/v1/setup', { token: SETUP_TOKEN, workspace: 'Acme', email: OWNER.email, password }),
      400,
      'VALIDATION_ERROR',
    );
    expect(err.fields).toEqual(['password']);
    expect(JSON.stringify(err)).not.toContain(password);
    expect(await countRows('users')).toBe(0);
  });

  it('runs once: concurrent setups create exactly one owner, and every later call gets 409 even with the right token', async () => {
    const attempts = await Promise.all(
      [0, 1, 2].map((i) => postJson('/api/v1/setup', { token: SETUP_TOKEN, workspace: `Acme ${i}`, ...OWNER })),
    );
    expect(attempts.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(await countRows('users')).toBe(1);
    expect(await countRows('workspaces')).toBe(1);

    await expectError(
      await postJson('/api/v1/setup', {
        token: SETUP_TOKEN,
        workspace: 'Again',
        email: 'other@example.com',
        password: 'another strong passphrase',
      }),
      409,
      'CONFLICT',
    );
    expect(await (await send('/api/v1/setup')).json()).toEqual({ needed: false });
    expect(await countRows('users')).toBe(1);
  });
});
