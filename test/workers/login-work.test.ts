import { env } from 'cloudflare:workers';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { ORIGIN } from './helpers';
import { asSession, inviteUser, login, OWNER, setupInstance, testThrottle } from './identity-helpers';

// Counts Argon2id runs (work, not time): the app gets the real implementation, wrapped.
const argon2Calls: Array<Parameters<typeof argon2idAsync>> = [];
const countingArgon2id: typeof argon2idAsync = (password, salt, opts) => {
  argon2Calls.push([password, salt, opts]);
  return argon2idAsync(password, salt, opts);
};
const app = createApp({ loginThrottle: testThrottle, argon2id: countingArgon2id });
let nextIp = 0;
function attempt(email: string, password: string) {
  nextIp++;
  return app.fetch(
    new Request(`${ORIGIN}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': `198.18.200.${nextIp}` },
      body: JSON.stringify({ email, password }),
    }),
    env,
  );
}

beforeAll(async () => {
  await setupInstance();
  const owner = await login(OWNER.email, OWNER.password);
  await inviteUser(owner, 'known@example.com', 'viewer', 'known member passphrase');
  // Invited, never accepted: a user row without a password.
  expect((await asSession(owner, '/api/v1/users', { method: 'POST', body: { email: 'pending@example.com', role: 'viewer' } })).status).toBe(
    201,
  );
});

beforeEach(() => {
  argon2Calls.length = 0;
});

describe('an unknown email costs the same work as a wrong password (no account enumeration by work)', () => {
  it.each([
    ['an unknown email', 'nobody-here@example.com'],
    ['a wrong password', 'known@example.com'],
    ['an invited user without a password', 'pending@example.com'],
  ])('%s runs Argon2id exactly once, at the current parameters, and answers 401', async (_label, email) => {
    const res = await attempt(email, 'some long guessed password');
    expect(res.status).toBe(401);
    expect(argon2Calls).toHaveLength(1);
    expect(argon2Calls[0]![2]).toMatchObject({ m: 19456, t: 2, p: 1, dkLen: 32 });
  });

  it('a locked-out attempt runs no Argon2id at all', async () => {
    for (let i = 0; i < 10; i++) {
      const res = app.fetch(
        new Request(`${ORIGIN}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '198.18.201.1' },
          body: JSON.stringify({ email: 'nobody-else@example.com', password: `guess number ${i} long` }),
        }),
        env,
      );
      expect((await res).status).toBe(401);
    }
    argon2Calls.length = 0;
    const res = await app.fetch(
      new Request(`${ORIGIN}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '198.18.201.1' },
        body: JSON.stringify({ email: 'nobody-else@example.com', password: 'one more guess long' }),
      }),
      env,
    );
    expect(res.status).toBe(429);
    expect(argon2Calls).toHaveLength(0);
  });
});
