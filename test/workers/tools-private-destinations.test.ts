/**
 * A manifest may name a private destination only when an operator allowance
 * (TOOL_OPERATOR_ALLOW) names exactly that host and port: checked at install, and again when a
 * call compiles its tool (an allowance withdrawn since refuses the call). At connect time
 * decideEgress rule 2 opens the destination only for a tool that declares it
 * (src/policy/egress.test.ts, tools-outbound.test.ts, containers/runner/test/egress.test.ts).
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError } from './helpers';
import { asSession, countRows, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { LOCAL_EXECUTOR, stubRunner, toolApp } from './tools-support';

let owner: Session;
let agentId: string;

const manifestNaming = (destination: string) => ({
  name: 'internal-tools',
  version: '1.0.0',
  tools: [
    {
      name: 'internal',
      capabilities: ['exec:spawn:curl', `net:connect:${destination}`],
      run: { argv: ['curl', `https://${destination}/`] },
    },
  ],
});

beforeAll(async () => {
  await setupInstance('Private destinations');
  owner = await login(OWNER.email, OWNER.password);
  agentId = (
    (await (await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'internal-bot', isolation: 'sandbox' } })).json()) as {
      id: string;
    }
  ).id;
});

async function refusedInstalls(): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM audit_events WHERE kind = 'tool.install.refused' AND data LIKE '%CAP_NET_PRIVATE%'",
  ).first<{ n: number }>();
  return row?.n ?? 0;
}

describe('private destinations in manifests', () => {
  it.each([
    ['no operator allowance', {}],
    ['an allowance for another port', { TOOL_OPERATOR_ALLOW: '10.1.2.3:9443' }],
    ['an allowance for another host', { TOOL_OPERATOR_ALLOW: '10.1.2.4:8443' }],
  ])('refuses at install a private destination with %s (400 CAP_NET_PRIVATE, nothing written, audited)', async (_label, bindings) => {
    const install = toolApp({ bindings });
    const rowsBefore = await countRows('installed_tools');
    const refusedBefore = await refusedInstalls();
    const error = await expectError(
      await install(owner, `/api/v1/agents/${agentId}/tools`, { method: 'POST', body: { manifest: manifestNaming('10.1.2.3:8443') } }),
      400,
      'VALIDATION_ERROR',
    );
    expect(error.message).toContain('CAP_NET_PRIVATE');
    expect(await countRows('installed_tools')).toBe(rowsBefore);
    expect(await refusedInstalls()).toBe(refusedBefore + 1);
  });

  it('installs a private destination an operator allowance names exactly; a call compiles it only while the allowance stands', async () => {
    const allowed = { TOOL_OPERATOR_ALLOW: '10.9.9.9:443, 10.1.2.3:8443' };
    const installed = await toolApp({ bindings: allowed })(owner, `/api/v1/agents/${agentId}/tools`, {
      method: 'POST',
      body: { manifest: manifestNaming('10.1.2.3:8443') },
    });
    expect(installed.status).toBe(201);

    const runner = stubRunner(() => ({ stdout: 'ok' }));
    const ran = await toolApp({ fetch: runner.fetch, bindings: { ...LOCAL_EXECUTOR, ...allowed } })(
      owner,
      `/api/v1/agents/${agentId}/tools/internal/invocations`,
      { method: 'POST', body: { arguments: {} } },
    );
    expect(ran.status).toBe(200);
    expect(runner.calls[0]?.body.egress).toEqual({ allow: [{ host: '10.1.2.3', port: 8443 }] });

    // The operator withdraws the allowance: the installed tool no longer compiles, nothing runs.
    const withdrawn = stubRunner(() => ({ stdout: 'ok' }));
    await expectError(
      await toolApp({ fetch: withdrawn.fetch, bindings: LOCAL_EXECUTOR })(owner, `/api/v1/agents/${agentId}/tools/internal/invocations`, {
        method: 'POST',
        body: { arguments: {} },
      }),
      403,
      'POLICY_DENIED',
    );
    expect(withdrawn.calls).toEqual([]);
  });
});
