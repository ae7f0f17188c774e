import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { asSession, countRows, createKey, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { postJson } from './helpers';
import { LOCAL_EXECUTOR, proxyDecision, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';
import { connectClient, mcpFetch } from './mcp-support';

let owner: Session;
let ownerB: Session;
let agentId: string;
let toolKey: string;

async function newAgent(session: Session, name: string, tools: Record<string, unknown> = {}, isolation = 'sandbox'): Promise<string> {
  const res = await asSession(session, '/api/v1/agents', { method: 'POST', body: { name, settings: {}, isolation } });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  expect(
    (await asSession(session, `/api/v1/agents/${id}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST, tools } })).status,
  ).toBe(201);
  return id;
}

type TextContent = { type: 'text'; text: string };

function texts(result: object): string {
  return (('content' in result ? result.content : []) as TextContent[]).map((part) => part.text).join('\n');
}

async function invocationsOf(agent: string) {
  return (await env.DB.prepare('SELECT status, created_by FROM tool_invocations WHERE agent_id = ? ORDER BY created_at').bind(agent).all())
    .results;
}

beforeAll(async () => {
  await setupInstance('MCP A');
  owner = await login(OWNER.email, OWNER.password);
  const res = await asSession(owner, '/api/v1/workspaces', { method: 'POST', body: { name: 'MCP B', ownerEmail: 'mcp-b@example.com' } });
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'owner b passphrase long' })).status).toBe(204);
  ownerB = await login('mcp-b@example.com', 'owner b passphrase long');
  agentId = await newAgent(owner, 'mcp-bot');
  toolKey = (await createKey(owner, ['tools:invoke'])).key;
});

describe('tools/list', () => {
  it('lists the installed tools with their inputSchema and capability-derived annotations', async () => {
    const approving = await newAgent(owner, 'mcp-list-bot', { gh: { approval: 'always' } });
    const { client } = await connectClient(approving, toolKey);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['cat', 'gh']);
    const [cat, gh] = tools;
    expect(cat?.inputSchema).toEqual(TEST_MANIFEST.tools[0]!.inputSchema);
    // cat spawns cat and reads /workspace: read-only, closed world.
    expect(cat?.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
    expect(cat?._meta).toEqual({ 'portcullis/approval': 'never' });
    // gh reaches api.github.com: not read-only, open world, and every call needs an approval.
    expect(gh?.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
    expect(gh?._meta).toEqual({ 'portcullis/approval': 'always' });
    expect(gh?.description).toContain("operator's approval");
    await client.close();
  });
});

describe('tools/call', () => {
  it('runs the tool in the local sandbox through the one pipeline: result, stored row, audit under the key', async () => {
    const runner = stubRunner(() => ({ stdout: 'hello from the sandbox\n' }));
    const { client } = await connectClient(agentId, toolKey, mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR }));
    const result = await client.callTool({ name: 'cat', arguments: { path: '/workspace/a; rm -rf /' } });
    expect(result.isError).toBe(false);
    expect(texts(result)).toBe('hello from the sandbox\n');
    expect(result.structuredContent).toMatchObject({ status: 'completed', exitCode: 0, stdout: 'hello from the sandbox\n' });
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]!.body.argv).toEqual(['cat', '/workspace/a; rm -rf /']);
    expect(runner.calls[0]!.body.sandbox?.bwrapArgv).toEqual(expect.arrayContaining(['--unshare-net', '--clearenv']));
    const rows = await invocationsOf(agentId);
    expect(rows.at(-1)).toMatchObject({ status: 'completed', created_by: expect.stringMatching(/^api_key:key_/) });
    await client.close();
  });

  it.each([
    ['a missing required argument', {}],
    ['an undeclared argument', { path: '/workspace/a', extra: 'x' }],
    ['a wrong type', { path: 42 }],
  ])('refuses %s as a tool error naming the field; nothing stored, nothing run', async (_label, args) => {
    const runner = stubRunner(() => ({}));
    const { client } = await connectClient(agentId, toolKey, mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR }));
    const before = await countRows('tool_invocations');
    const result = await client.callTool({ name: 'cat', arguments: args });
    expect(result.isError).toBe(true);
    expect(texts(result)).toMatch(/^VALIDATION_ERROR: .*\(arguments/);
    expect(await countRows('tool_invocations')).toBe(before);
    expect(runner.calls).toEqual([]);
    await client.close();
  });

  it('a policy denial (an agent that requires a container, on the local sandbox) is a tool error, and nothing runs', async () => {
    const contained = await newAgent(owner, 'mcp-container-bot', {}, 'container');
    const runner = stubRunner(() => ({}));
    const { client } = await connectClient(contained, toolKey, mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR }));
    const result = await client.callTool({ name: 'cat', arguments: { path: '/workspace/a' } });
    expect(result.isError).toBe(true);
    expect(texts(result)).toMatch(/^POLICY_DENIED: .*container isolation/);
    expect(runner.calls).toEqual([]);
    expect(await invocationsOf(contained)).toEqual([{ status: 'failed', created_by: expect.stringMatching(/^api_key:/) }]);
    await client.close();
  });

  it('a denied egress comes back as a tool error with the sandbox’s output, and the denial is audited', async () => {
    const egressAgent = await newAgent(owner, 'mcp-egress-bot');
    const runner = stubRunner(() => ({
      exitCode: 56,
      stderr: 'curl: (56) CONNECT tunnel failed, response 403',
      egressEvents: [proxyDecision('evil.example', 443, false)],
    }));
    const { client } = await connectClient(egressAgent, toolKey, mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR }));
    const result = await client.callTool({ name: 'gh', arguments: { repo: 'octo/cat' } });
    expect(result.isError).toBe(true);
    expect(texts(result)).toContain('The tool call failed (exit code 56).');
    expect(texts(result)).toContain('CONNECT tunnel failed');
    const egress = (
      await env.DB.prepare("SELECT data FROM audit_events WHERE kind = 'tool.egress' AND json_extract(data, '$.agentId') = ?")
        .bind(egressAgent)
        .all<{ data: string }>()
    ).results.map((row) => JSON.parse(row.data) as Record<string, unknown>);
    expect(egress).toEqual([expect.objectContaining({ host: 'evil.example', allow: false, rule: 8 })]);
    await client.close();
  });

  it('an unknown tool is a JSON-RPC invalid-params error (MCP "Error Handling"), and nothing is stored', async () => {
    const { client } = await connectClient(agentId, toolKey);
    const before = await countRows('tool_invocations');
    await expect(client.callTool({ name: 'rm', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    expect(await countRows('tool_invocations')).toBe(before);
    await client.close();
  });
});

describe('approvals over MCP', () => {
  async function pendingApprovalOf(agent: string): Promise<string> {
    for (;;) {
      const { approvals } = (await (await asSession(owner, '/api/v1/approvals')).json()) as {
        approvals: { id: string; agentId: string }[];
      };
      const found = approvals.find((approval) => approval.agentId === agent);
      if (found) return found.id;
      await scheduler.wait(100);
    }
  }

  it('an approval-gated call reports progress while it waits and returns the result once an operator approves', async () => {
    const gated = await newAgent(owner, 'mcp-gated-bot', { cat: { approval: 'always' } });
    const runner = stubRunner(() => ({ stdout: 'approved output' }));
    const { client } = await connectClient(gated, toolKey, mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR }));
    const progress: string[] = [];
    const call = client.callTool({ name: 'cat', arguments: { path: '/workspace/x' } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
      resetTimeoutOnProgress: true,
    });
    const approvalId = await pendingApprovalOf(gated);
    expect(runner.calls).toEqual([]);
    const decide = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    expect((await decide(owner, `/api/v1/approvals/${approvalId}`, { method: 'POST', body: { decision: 'approve' } })).status).toBe(200);
    const result = await call;
    expect(result.isError).toBe(false);
    expect(texts(result)).toBe('approved output');
    expect(runner.calls).toHaveLength(1);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toContain(`approval ${approvalId}`);
    await client.close();
  });

  it('an approval-gated call fails with a clear tool error once an operator denies it, and never runs', async () => {
    const gated = await newAgent(owner, 'mcp-denied-bot', { cat: { approval: 'always' } });
    const runner = stubRunner(() => ({ stdout: 'must not run' }));
    const { client } = await connectClient(gated, toolKey, mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR }));
    const call = client.callTool({ name: 'cat', arguments: { path: '/workspace/x' } });
    const approvalId = await pendingApprovalOf(gated);
    expect((await asSession(owner, `/api/v1/approvals/${approvalId}`, { method: 'POST', body: { decision: 'deny' } })).status).toBe(200);
    const result = await call;
    expect(result.isError).toBe(true);
    expect(texts(result)).toMatch(/^DENIED: /);
    expect(runner.calls).toEqual([]);
    await client.close();
  });

  it('a call whose approval expires fails with a tool error saying so (expired = denied)', async () => {
    const gated = await newAgent(owner, 'mcp-expired-bot', { cat: { approval: 'always' } });
    let skew = 0;
    const runner = stubRunner(() => ({ stdout: 'must not run' }));
    const { client } = await connectClient(
      gated,
      toolKey,
      mcpFetch({ now: () => Date.now() + skew, fetch: runner.fetch, bindings: LOCAL_EXECUTOR }),
    );
    const call = client.callTool({ name: 'cat', arguments: { path: '/workspace/x' } });
    await pendingApprovalOf(gated);
    skew = 11 * 60_000;
    const result = await call;
    expect(result.isError).toBe(true);
    expect(texts(result)).toMatch(/^EXPIRED: /);
    expect(await invocationsOf(gated)).toEqual([{ status: 'expired', created_by: expect.stringMatching(/^api_key:/) }]);
    expect(runner.calls).toEqual([]);
    await client.close();
  });
});

describe('who may connect', () => {
  it('another workspace’s key and an unknown agent id both get 404, the same answer, and no session is written', async () => {
    const keyB = (await createKey(ownerB, ['tools:invoke'])).key;
    const before = await countRows('mcp_sessions');
    await expect(connectClient(agentId, keyB)).rejects.toMatchObject({ code: 404 });
    await expect(connectClient('agt_00000000000000000000000000000000', toolKey)).rejects.toMatchObject({ code: 404 });
    expect(await countRows('mcp_sessions')).toBe(before);
  });

  it('a key without tools:invoke gets 403 with an insufficient_scope challenge (RFC 6750 §3.1)', async () => {
    const readKey = (await createKey(owner, ['agents:read'])).key;
    const res = await mcpFetch()(`https://gateway.example.com/mcp/agents/${agentId}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${readKey}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toBe(
      'Bearer realm="portcullis", resource_metadata="https://gateway.example.com/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", scope="tools:invoke"',
    );
  });

  it('no token gets 401 with a Bearer challenge', async () => {
    const res = await mcpFetch()(`https://gateway.example.com/mcp/agents/${agentId}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Cookie: owner.cookie },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe(
      'Bearer realm="portcullis", resource_metadata="https://gateway.example.com/.well-known/oauth-protected-resource/mcp"',
    );
  });

  it('an expired key is refused (401)', async () => {
    const { key } = await createKey(owner, ['tools:invoke'], { expiresInDays: 1 });
    await expect(connectClient(agentId, key, mcpFetch({ now: () => Date.now() + 2 * 24 * 60 * 60_000 }))).rejects.toMatchObject({
      code: 401,
    });
  });

  it('revoking a key refuses its open session at once (401 on the next request)', async () => {
    const { id, key } = await createKey(owner, ['tools:invoke']);
    const { client } = await connectClient(agentId, key);
    expect((await client.listTools()).tools.length).toBe(2);
    expect((await asSession(owner, `/api/v1/api-keys/${id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    await expect(client.listTools()).rejects.toMatchObject({ code: 401 });
    await client.close();
  });
});
