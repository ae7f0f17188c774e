import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agents';
import type { Principal } from '../../src/auth';
import { createConnector, deleteConnector, listConnectors } from '../../src/connectors';
import { countRows, domainActor, setupInstance } from './identity-helpers';

/** Domain functions are called directly: no fetch, no middleware, the actor built by hand. */
const actor = domainActor;

let owner: Principal;
let agentId = '';
const clock = () => Date.now();
const SLACK = { platform: 'slack', signingSecret: 'slack-signing-secret-0123456789abcdef' } as const;

beforeAll(async () => {
  const { workspaceId, userId } = await setupInstance();
  owner = actor(workspaceId, userId);
  const agent = await createAgent(env, owner, { name: 'support' }, clock);
  if (!agent.ok) throw new Error('agent failed');
  agentId = agent.value.id;
});

describe('connector domain functions (src/connectors/connectors.ts), without HTTP', () => {
  it('another workspace cannot add, list or delete connectors of this agent: not-found, no row, no secret, no audit event', async () => {
    const created = await createConnector(env, owner, { agentId, body: SLACK }, clock);
    if (!created.ok) throw new Error('create failed');
    const stranger = actor('ws_other', 'usr_other');
    const before = {
      connectors: await countRows('connectors'),
      secrets: await countRows('vault_secrets'),
      audit: await countRows('audit_events'),
    };

    expect(await createConnector(env, stranger, { agentId, body: SLACK }, clock)).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await listConnectors(env, stranger, agentId)).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await deleteConnector(env, stranger, { agentId, connectorId: created.value.id }, clock)).toEqual({
      ok: false,
      problem: { kind: 'not-found' },
    });

    expect({
      connectors: await countRows('connectors'),
      secrets: await countRows('vault_secrets'),
      audit: await countRows('audit_events'),
    }).toEqual(before);
    const mine = await listConnectors(env, owner, agentId);
    expect(mine.ok && mine.value.map((connector) => connector.id)).toEqual([created.value.id]);
  });

  it('a missing keyring is a vault problem, and nothing is written', async () => {
    const before = await countRows('connectors');
    expect(await createConnector({ ...env, VAULT_KEYS: undefined }, owner, { agentId, body: SLACK }, clock)).toEqual({
      ok: false,
      vaultProblem: { kind: 'keyring-missing' },
    });
    expect(await countRows('connectors')).toBe(before);
  });
});
