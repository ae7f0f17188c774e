import { beforeAll, describe, expect, it } from 'vitest';
import { asSession, countRows, createKey, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST } from './tools-support';
import { INITIALIZE, mcpFetch, mcpHeaders, mcpUrl, rawSession } from './mcp-support';

let owner: Session;
let agentId: string;
let otherAgentId: string;
let keyA: string;
let keyB: string;

async function newAgent(name: string): Promise<string> {
  const res = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name, settings: {}, isolation: 'sandbox' } });
  const { id } = (await res.json()) as { id: string };
  expect((await asSession(owner, `/api/v1/agents/${id}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST } })).status).toBe(201);
  return id;
}

const CALL_CAT = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'cat', arguments: { path: '/workspace/a' } } };

beforeAll(async () => {
  await setupInstance('MCP attacks');
  owner = await login(OWNER.email, OWNER.password);
  agentId = await newAgent('attack-bot');
  otherAgentId = await newAgent('other-bot');
  keyA = (await createKey(owner, ['tools:invoke'])).key;
  keyB = (await createKey(owner, ['tools:invoke'])).key;
});

describe('Origin is validated on every request (MCP "Security Warning": DNS rebinding)', () => {
  it.each([
    ['a foreign origin', 'https://evil.example'],
    ['the opaque origin', 'null'],
    ['a look-alike by suffix', 'https://gateway.example.com.evil.example'],
    ['a look-alike by prefix', 'http://localhost.evil.example'],
    ['the right host over another scheme', 'http://gateway.example.com'],
  ])('refuses %s with 403 before authentication; no session is written', async (_label, origin) => {
    const before = await countRows('mcp_sessions');
    const res = await mcpFetch()(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { Origin: origin }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(await countRows('mcp_sessions')).toBe(before);
  });

  it.each([
    ['the gateway’s own origin', 'https://gateway.example.com'],
    ['a configured origin (ALLOWED_ORIGINS)', 'https://console.example.com'],
  ])('lets %s initialize', async (_label, origin) => {
    const res = await mcpFetch()(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { Origin: origin }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Mcp-Session-Id')).toMatch(/^mcps_[A-Za-z0-9_-]{43}$/);
  });
});

describe('sessions are unguessable, bound to their token and agent, and end on DELETE', () => {
  it('stores only the hash of the session id', async () => {
    const id = await rawSession(mcpFetch(), agentId, keyA);
    const { results } = await (
      await import('cloudflare:workers')
    ).env.DB.prepare('SELECT id_hash FROM mcp_sessions').all<{ id_hash: string }>();
    expect(results.some((row) => row.id_hash === id)).toBe(false);
    expect(results.every((row) => /^[0-9a-f]{64}$/.test(row.id_hash))).toBe(true);
  });

  it.each([
    ['another key of the same workspace (session hijack)', (s: string) => ({ token: keyB, agent: agentId, session: s })],
    ['the same key on another agent’s endpoint', (s: string) => ({ token: keyA, agent: otherAgentId, session: s })],
    ['a made-up session id', () => ({ token: keyA, agent: agentId, session: 'mcps_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })],
  ])('refuses %s with 404 Session not found; nothing runs', async (_label, attempt) => {
    const runner = stubRunner(() => ({ stdout: 'ran' }));
    const fetchFn = mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const session = await rawSession(fetchFn, agentId, keyA);
    const { token, agent, session: sent } = attempt(session);
    const before = await countRows('tool_invocations');
    const res = await fetchFn(mcpUrl(agent), {
      method: 'POST',
      headers: mcpHeaders(token, { 'Mcp-Session-Id': sent }),
      body: JSON.stringify(CALL_CAT),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 }, id: null });
    expect(await countRows('tool_invocations')).toBe(before);
    expect(runner.calls).toEqual([]);
  });

  it('a request after initialize without Mcp-Session-Id is 400', async () => {
    const res = await mcpFetch()(mcpUrl(agentId), { method: 'POST', headers: mcpHeaders(keyA), body: JSON.stringify(CALL_CAT) });
    expect(res.status).toBe(400);
  });

  it('DELETE ends the session at once; another key cannot end it', async () => {
    const fetchFn = mcpFetch();
    const session = await rawSession(fetchFn, agentId, keyA);
    expect((await fetchFn(mcpUrl(agentId), { method: 'DELETE', headers: mcpHeaders(keyB, { 'Mcp-Session-Id': session }) })).status).toBe(
      404,
    );
    expect((await fetchFn(mcpUrl(agentId), { method: 'DELETE', headers: mcpHeaders(keyA, { 'Mcp-Session-Id': session }) })).status).toBe(
      204,
    );
    const after = await fetchFn(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { 'Mcp-Session-Id': session }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
  });

  it('a session expires (MCP_SESSION_TTL_MS after initialize)', async () => {
    let skew = 0;
    const fetchFn = mcpFetch({ now: () => Date.now() + skew });
    const session = await rawSession(fetchFn, agentId, keyA);
    skew = 13 * 60 * 60_000;
    const res = await fetchFn(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { 'Mcp-Session-Id': session }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });
});

describe('malformed messages, batches and oversize bodies get protocol errors, never a 500', () => {
  it.each([
    ['a JSON-RPC batch', JSON.stringify([CALL_CAT, CALL_CAT]), 400, -32600],
    ['a batch holding an initialize', JSON.stringify([INITIALIZE]), 400, -32600],
    ['a body that is not JSON', '{"jsonrpc":"2.0",', 400, -32700],
    ['JSON that is not a JSON-RPC message', JSON.stringify({ hello: 'world' }), 400, null],
    ['a bare number', '42', 400, null],
  ])('%s → %i, nothing stored or run', async (_label, body, status, code) => {
    const runner = stubRunner(() => ({ stdout: 'ran' }));
    const fetchFn = mcpFetch({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const session = await rawSession(fetchFn, agentId, keyA);
    const before = await countRows('tool_invocations');
    const res = await fetchFn(mcpUrl(agentId), { method: 'POST', headers: mcpHeaders(keyA, { 'Mcp-Session-Id': session }), body });
    expect(res.status).toBe(status);
    const answer = (await res.json()) as { jsonrpc?: string; error?: { code: number | string } };
    if (code !== null) expect(answer).toMatchObject({ jsonrpc: '2.0', error: { code } });
    expect(await countRows('tool_invocations')).toBe(before);
    expect(runner.calls).toEqual([]);
  });

  it('a body over MCP_MAX_BODY_BYTES is 413, an honest Content-Length or a chunked stream alike', async () => {
    const session = await rawSession(mcpFetch(), agentId, keyA);
    const big = JSON.stringify({ ...CALL_CAT, params: { name: 'cat', arguments: { path: 'a'.repeat(200 * 1024) } } });
    const honest = await mcpFetch()(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { 'Mcp-Session-Id': session }),
      body: big,
    });
    expect(honest.status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await mcpFetch()(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { 'Mcp-Session-Id': session }),
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('a body that is not application/json is 415', async () => {
    const res = await mcpFetch()(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { 'Content-Type': 'text/plain' }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(415);
  });

  it('GET opens no stream (405 with Allow), PUT is 405', async () => {
    const get = await mcpFetch()(mcpUrl(agentId), { method: 'GET', headers: { ...mcpHeaders(keyA), Accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('Allow')).toBe('POST, DELETE');
    const put = await mcpFetch()(mcpUrl(agentId), { method: 'PUT', headers: mcpHeaders(keyA), body: '{}' });
    expect(put.status).toBe(405);
  });

  it('a client that does not accept both JSON and SSE gets 406 from the transport, not a 500', async () => {
    const res = await mcpFetch()(mcpUrl(agentId), {
      method: 'POST',
      headers: mcpHeaders(keyA, { Accept: 'application/json' }),
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(406);
  });
});

describe('rate limited per token (mcp-credential)', () => {
  it('a token past its limit gets 429 with Retry-After; another token is not affected', async () => {
    const fetchFn = mcpFetch({ bindings: { RATE_LIMITS: JSON.stringify({ 'mcp-credential': { limit: 2, windowS: 60 } }) } });
    const flood = (await createKey(owner, ['tools:invoke'])).key;
    const other = (await createKey(owner, ['tools:invoke'])).key;
    const init = (token: string) =>
      fetchFn(mcpUrl(agentId), { method: 'POST', headers: mcpHeaders(token), body: JSON.stringify(INITIALIZE) });
    expect((await init(flood)).status).toBe(200);
    expect((await init(flood)).status).toBe(200);
    const limited = await init(flood);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(0);
    expect((await init(other)).status).toBe(200);
  });
});
