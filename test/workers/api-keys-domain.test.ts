import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, listApiKeys, revokeApiKey, type Principal } from '../../src/auth';
import { countRows, domainActor, setupInstance } from './identity-helpers';

/** Domain functions are called directly: no fetch, no middleware, the actor built by hand. */
const actor = domainActor;

let owner: Principal;
const clock = () => Date.now();

beforeAll(async () => {
  const { workspaceId, userId } = await setupInstance();
  owner = actor(workspaceId, userId);
});

describe('API key domain functions (src/auth/api-keys.ts), without HTTP', () => {
  it('an admin of another workspace cannot revoke or list the key: not-found, the key stays live, nothing audited', async () => {
    const created = await createApiKey(env, owner, { name: 'ci', scopes: ['agents:read'] }, clock);
    if (!created.ok) throw new Error('create failed');
    const foreignAdmin = actor('ws_other', 'usr_other');
    const audits = await countRows('audit_events');

    expect(await revokeApiKey(env, foreignAdmin, created.value.id, clock)).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await listApiKeys(env, foreignAdmin)).toEqual({ ok: true, value: [] });
    const row = await env.DB.prepare('SELECT revoked_at AS revokedAt FROM api_keys WHERE id = ?')
      .bind(created.value.id)
      .first<{ revokedAt: number | null }>();
    expect(row).toEqual({ revokedAt: null });
    expect(await countRows('audit_events')).toBe(audits);
  });

  it('a narrow key cannot mint a sibling, and no key holds tools:invoke with approvals:decide; no row either way', async () => {
    const keys = await countRows('api_keys');
    const narrowKey = actor(owner.workspaceId, owner.userId, {
      kind: 'api_key',
      apiKeyId: 'key_narrow',
      scopes: new Set(['agents:read', 'agents:write']),
    });
    expect(await createApiKey(env, narrowKey, { name: 'sibling', scopes: ['agents:read'] }, clock)).toEqual({
      ok: false,
      problem: { kind: 'forbidden' },
    });
    expect(await createApiKey(env, owner, { name: 'both', scopes: ['tools:invoke', 'approvals:decide'] }, clock)).toEqual({
      ok: false,
      problem: { kind: 'invalid', message: 'A key with tools:invoke cannot also hold approvals:decide or admin.', fields: ['scopes'] },
    });
    expect(await countRows('api_keys')).toBe(keys);
  });
});
