import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { loginThrottle } from '../../src/index';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST } from '../../test/workers/tools-support';
import { measure, report } from './harness';

const ORIGIN = 'https://gateway.example.com';
const OWNER = { email: 'bench-mcp@example.com', password: 'bench passphrase that is long' };
// The bench sends thousands of calls from one key and address: lift the limits so the row measures a call, not a 429.
const UNLIMITED = JSON.stringify({
  'api-ip': { limit: 10_000, windowS: 1 },
  'api-credential': { limit: 10_000, windowS: 1 },
  'mcp-credential': { limit: 10_000, windowS: 1 },
});

/** A call writes D1 rows and audit events: a few ms each at best, so run longer than the default to get a stable ratio. */
const CALL_RUN = { durationMs: 6000, warmup: 3 };

it('mcp: tools/call over MCP Streamable HTTP against the REST invocation of the same tool', async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  // The stand-in runner answers at once, so both rows measure the gateway's own work.
  const runner = stubRunner(() => ({ stdout: 'bench\n' }));
  const app = createApp({ loginThrottle, fetch: runner.fetch });
  const bindings = { ...env, ...LOCAL_EXECUTOR, RATE_LIMITS: UNLIMITED };
  const send = (path: string, init: RequestInit) => {
    const request = new Request(`${ORIGIN}${path}`, init);
    request.headers.set('CF-Connecting-IP', '198.18.7.7');
    return app.fetch(request, bindings);
  };
  const json = { 'Content-Type': 'application/json' };
  expect(
    (
      await send('/api/v1/setup', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ token: env.SETUP_TOKEN, workspace: 'Bench', ...OWNER }),
      })
    ).status,
  ).toBe(201);
  const login = await send('/api/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify(OWNER) });
  const cookie = (login.headers.get('Set-Cookie') ?? '').split(';')[0]!;
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const session = { ...json, Cookie: cookie, 'X-CSRF-Token': csrfToken };
  const { key } = (await (
    await send('/api/v1/api-keys', { method: 'POST', headers: session, body: JSON.stringify({ name: 'bench', scopes: ['tools:invoke'] }) })
  ).json()) as { key: string };
  const { id: agentId } = (await (
    await send('/api/v1/agents', {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ name: 'bench-bot', settings: { maxConcurrentTools: 4 }, isolation: 'sandbox' }),
    })
  ).json()) as { id: string };
  expect(
    (await send(`/api/v1/agents/${agentId}/tools`, { method: 'POST', headers: session, body: JSON.stringify({ manifest: TEST_MANIFEST }) }))
      .status,
  ).toBe(201);

  const bearer = { ...json, Authorization: `Bearer ${key}` };
  const mcp = { ...bearer, Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-06-18' };
  const init = await send(`/mcp/agents/${agentId}`, {
    method: 'POST',
    headers: mcp,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    }),
  });
  const sessionId = init.headers.get('Mcp-Session-Id')!;
  await init.text();
  const callBody = JSON.stringify({
    jsonrpc: '2.0',
    id: 2,
    method: 'tools/call',
    params: { name: 'cat', arguments: { path: '/workspace/a' } },
  });
  const restBody = JSON.stringify({ arguments: { path: '/workspace/a' } });

  const rest = await measure(
    'POST /api/v1/agents/:id/tools/cat/invocations (API key)',
    async () => {
      const res = await send(`/api/v1/agents/${agentId}/tools/cat/invocations`, { method: 'POST', headers: bearer, body: restBody });
      if (res.status !== 200) throw new Error(`REST answered ${res.status}`);
      await res.text();
    },
    CALL_RUN,
  );
  const overMcp = await measure(
    'POST /mcp/agents/:id tools/call (same key, session, SSE answer)',
    async () => {
      const res = await send(`/mcp/agents/${agentId}`, {
        method: 'POST',
        headers: { ...mcp, 'Mcp-Session-Id': sessionId },
        body: callBody,
      });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('bench')) throw new Error(`MCP answered ${res.status}`);
    },
    CALL_RUN,
  );
  report('mcp-tools-call', rest, [overMcp]);
});
