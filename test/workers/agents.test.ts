import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { expectError, ORIGIN } from './helpers';
import { asKey, asSession, countRows, createKey, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';

let owner: Session;

beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
});

describe('agents API', () => {
  it('creates, reads, updates and deletes an agent', async () => {
    const created = await asSession(owner, '/api/v1/agents', {
      method: 'POST',
      body: { name: 'helper', settings: { model: 'm1', maxConcurrentTools: 2 } },
    });
    expect(created.status).toBe(201);
    const agent = (await created.json()) as { id: string; isolation: string };
    expect(agent.isolation).toBe('container');
    expect(((await (await asSession(owner, `/api/v1/agents/${agent.id}`)).json()) as { name: string }).name).toBe('helper');

    const patched = await asSession(owner, `/api/v1/agents/${agent.id}`, { method: 'PATCH', body: { isolation: 'sandbox' } });
    const body = (await patched.json()) as { isolation: string; note?: string };
    expect(body.isolation).toBe('sandbox');
    expect(body.note).toMatch(/new sandboxes only/);

    expect((await asSession(owner, `/api/v1/agents/${agent.id}`, { method: 'DELETE' })).status).toBe(204);
    await expectError(await asSession(owner, `/api/v1/agents/${agent.id}`), 404, 'NOT_FOUND');
  });

  it.each([
    ['unknown settings key', { name: 'x', settings: { shell: true } }],
    ['unknown top-level key', { name: 'x', workspaceId: 'ws_other' }],
    ['empty name', { name: '' }],
    ['absurd timeout', { name: 'x', settings: { toolTimeoutMs: 10_000_000 } }],
  ])('refuses %s with 400 and writes nothing', async (_label, body) => {
    const before = await countRows('agents');
    const err = await expectError(await asSession(owner, '/api/v1/agents', { method: 'POST', body }), 400, 'VALIDATION_ERROR');
    expect(JSON.stringify(err)).not.toContain('ws_other');
    expect(await countRows('agents')).toBe(before);
  });

  it('refuses isolation "unrestricted" unless the dangerous flag is set, and healthz reports the flag', async () => {
    const before = await countRows('agents');
    await expectError(
      await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'x', isolation: 'unrestricted' } }),
      403,
      'POLICY_DENIED',
    );
    expect(await countRows('agents')).toBe(before);

    const dangerousEnv = { ...env, DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS: 'true' };
    const app = createApp({ loginThrottle: testThrottle });
    const health = await app.fetch(new Request(`${ORIGIN}/healthz`), dangerousEnv);
    expect(await health.json()).toEqual({ status: 'ok', dangerous: ['DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS'] });
    const res = await app.fetch(
      new Request(`${ORIGIN}/api/v1/agents`, {
        method: 'POST',
        headers: { Cookie: owner.cookie, 'X-CSRF-Token': owner.csrfToken, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'wild', isolation: 'unrestricted' }),
      }),
      dangerousEnv,
    );
    expect(res.status).toBe(201);
  });

  it('defaults new agents to the sandbox the deployment runs tools in', async () => {
    const app = createApp({ loginThrottle: testThrottle });
    const create = (bindings: Record<string, string>) =>
      app.fetch(
        new Request(`${ORIGIN}/api/v1/agents`, {
          method: 'POST',
          headers: {
            Cookie: owner.cookie,
            'X-CSRF-Token': owner.csrfToken,
            'Content-Type': 'application/json',
            'CF-Connecting-IP': '203.0.113.90',
          },
          body: JSON.stringify({ name: 'defaulted' }),
        }),
        { ...env, ...bindings },
      );
    expect(((await (await create({ TOOL_EXECUTOR: 'local' })).json()) as { isolation: string }).isolation).toBe('sandbox');
    expect(((await (await create({ TOOL_EXECUTOR: 'container' })).json()) as { isolation: string }).isolation).toBe('container');
  });

  it('needs agents:write to change and agents:read to list', async () => {
    const reader = await createKey(owner, ['agents:read']);
    expect((await asKey(reader.key, '/api/v1/agents')).status).toBe(200);
    await expectError(await asKey(reader.key, '/api/v1/agents', { method: 'POST', body: { name: 'nope' } }), 403, 'FORBIDDEN');
    const nothing = await createKey(owner, ['audit:read']);
    await expectError(await asKey(nothing.key, '/api/v1/agents'), 403, 'FORBIDDEN');
  });
});
