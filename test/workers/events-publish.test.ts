import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { publishEvent } from '../../src/events';
import { asSession, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';

/** An EVENT_HUB binding whose every call fails, as when the hub is overloaded or unreachable. */
const brokenHub = {
  getByName() {
    return {
      publish() {
        return Promise.reject(new Error('hub unreachable'));
      },
    };
  },
};

let owner: Session;
beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
});

describe('publishEvent is best effort: a failing hub never fails the caller', () => {
  it('resolves and logs when the hub call fails', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    await expect(
      publishEvent({ EVENT_HUB: brokenHub } as never, { type: 'audit', workspaceId: owner.workspaceId, at: Date.now(), data: {} }),
    ).resolves.toBeUndefined();
    expect(logged).toHaveBeenCalledWith(
      'events: publish failed',
      expect.objectContaining({ type: 'audit', workspaceId: owner.workspaceId }),
    );
    logged.mockRestore();
  });

  it('a tool call completes, is stored and answered normally while the hub is down', async () => {
    const created = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'no-hub', isolation: 'sandbox' } });
    const agentId = ((await created.json()) as { id: string }).id;
    expect((await asSession(owner, `/api/v1/agents/${agentId}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST } })).status).toBe(
      201,
    );
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const runner = stubRunner(() => ({ stdout: 'ran anyway' }));
    const call = toolApp({ fetch: runner.fetch, bindings: { ...LOCAL_EXECUTOR, EVENT_HUB: brokenHub } });
    const res = await call(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, {
      method: 'POST',
      body: { arguments: { path: '/workspace/a.txt' } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; status: string; stdout: string };
    expect(body).toMatchObject({ status: 'completed', stdout: 'ran anyway' });
    const row = await env.DB.prepare('SELECT status FROM tool_invocations WHERE id = ?').bind(body.id).first<{ status: string }>();
    expect(row?.status).toBe('completed');
    expect(logged).toHaveBeenCalledWith('events: publish failed', expect.objectContaining({ type: 'invocation.finished' }));
    logged.mockRestore();
  });
});
