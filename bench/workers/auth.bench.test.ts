import { applyD1Migrations } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { hashPassword, hashToken, verifyPassword } from '../../src/auth';
import { measure, report } from './harness';

const OWNER = { email: 'bench@example.com', password: 'bench passphrase that is long' };

it('auth: cost of one login (Argon2id) against an API-key check (SHA-256)', async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  const setup = await exports.default.fetch(
    new Request('https://gateway.example.com/api/v1/setup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: env.SETUP_TOKEN, workspace: 'Bench', ...OWNER }),
    }),
  );
  expect(setup.status).toBe(201);
  const stored = await hashPassword(OWNER.password);

  const sha = await measure('SHA-256 of an API key (what a key check hashes)', () =>
    hashToken('pcl_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM'),
  );
  const argon = await measure('Argon2id verify, m=19456 t=2 p=1', () => verifyPassword(OWNER.password, stored), {
    durationMs: 4000,
    warmup: 1,
  });
  // Each login from its own address (a /64 apiece): this row measures a login, not the per-IP
  // auth limit (20/min), which a fast machine would otherwise reach within the run.
  let client = 0;
  const login = await measure(
    'POST /api/v1/auth/login end to end',
    async () => {
      const headers = { 'Content-Type': 'application/json', 'CF-Connecting-IP': `2001:db8:${(++client).toString(16)}::1` };
      const res = await exports.default.fetch(
        new Request('https://gateway.example.com/api/v1/auth/login', { method: 'POST', headers, body: JSON.stringify(OWNER) }),
      );
      expect(res.status).toBe(200);
    },
    { durationMs: 4000, warmup: 1 },
  );
  report('auth-login', sha, [argon, login], { note: 'ms per login = 1000 / opsPerSec; tests never assert timings' });
});
