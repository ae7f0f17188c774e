import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAgent, deleteAgent, getAgent, listAgents, updateAgent } from '../../src/agents';
import type { Principal } from '../../src/auth';
import { countRows, setupInstance } from './identity-helpers';

/** Domain functions are called directly: no fetch, no middleware, the actor built by hand. */
function actorIn(workspaceId: string, userId: string): Principal {
  return {
    kind: 'session',
    userId,
    workspaceId,
    email: 'a@example.com',
    role: 'owner',
    isInstanceOwner: false,
    scopes: new Set(['agents:read', 'agents:write']),
  };
}

let owner: Principal;
const stranger = actorIn('ws_someone_else', 'usr_someone_else');
const clock = () => Date.now();

beforeAll(async () => {
  const { workspaceId, userId } = await setupInstance();
  owner = actorIn(workspaceId, userId);
});

describe('agents domain functions (src/agents/agents.ts), without HTTP', () => {
  it('refuse another workspace’s agent as not-found on read, update and delete, and change nothing', async () => {
    const created = await createAgent(env, owner, { name: 'mine' }, clock);
    if (!created.ok) throw new Error('create failed');
    const id = created.value.id;
    const audits = await countRows('audit_events');

    expect(await getAgent(env, stranger, id)).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await updateAgent(env, stranger, { id, changes: { name: 'taken over' } }, clock)).toEqual({
      ok: false,
      problem: { kind: 'not-found' },
    });
    expect(await deleteAgent(env, stranger, id, clock)).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await listAgents(env, stranger)).toEqual({ ok: true, value: [] });

    const still = await getAgent(env, owner, id);
    expect(still.ok && still.value.name).toBe('mine');
    expect(await countRows('audit_events')).toBe(audits);
  });

  it('refuses isolation "unrestricted" as policy-denied unless the deployment allows it, writing no row', async () => {
    const before = await countRows('agents');
    const result = await createAgent(
      { ...env, DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS: undefined },
      owner,
      { name: 'open', isolation: 'unrestricted' },
      clock,
    );
    expect(result).toEqual({
      ok: false,
      problem: { kind: 'policy-denied', message: 'Isolation "unrestricted" is disabled on this deployment.' },
    });
    expect(await countRows('agents')).toBe(before);
  });
});
