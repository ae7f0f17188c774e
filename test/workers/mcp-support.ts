/**
 * Test support for the MCP endpoint: the official SDK client, its Streamable HTTP transport
 * pointed at the Worker's app (no network), and a raw sender for the attack tables.
 */
import { env } from 'cloudflare:workers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker-provider.js';
import { createApp } from '../../src/app';
import { ORIGIN } from './helpers';
import { testThrottle } from './identity-helpers';

let nextClient = 0;

/** An app with its own clock, outbound fetch and extra bindings, as a fetch function. */
export function mcpFetch(options: { now?: () => number; fetch?: typeof fetch; bindings?: Record<string, unknown> } = {}): typeof fetch {
  const app = createApp({
    loginThrottle: testThrottle,
    ...(options.now ? { now: options.now } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const bindings = { ...env, ...options.bindings };
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.headers.has('CF-Connecting-IP')) {
      nextClient = (nextClient + 1) % 65536;
      request.headers.set('CF-Connecting-IP', `198.19.${nextClient >> 8}.${nextClient & 255}`);
    }
    return app.fetch(request, bindings);
  }) as typeof fetch;
}

export function mcpUrl(agentId: string): URL {
  return new URL(`${ORIGIN}/mcp/agents/${agentId}`);
}

/** A connected SDK client (initialize done) for `agentId` with `token` as its Bearer. */
export async function connectClient(agentId: string, token: string, fetchFn: typeof fetch = mcpFetch()) {
  const transport = new StreamableHTTPClientTransport(mcpUrl(agentId), {
    fetch: fetchFn,
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'portcullis-test', version: '1.0.0' }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(transport);
  return { client, transport };
}

/** The headers every raw MCP POST needs (MCP 2025-06-18 "Sending Messages to the Server"). */
export function mcpHeaders(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'MCP-Protocol-Version': '2025-06-18',
    ...extra,
  };
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** Initializes with a raw POST and returns the session id the gateway issued. */
export async function rawSession(fetchFn: typeof fetch, agentId: string, token: string): Promise<string> {
  const res = await fetchFn(mcpUrl(agentId), { method: 'POST', headers: mcpHeaders(token), body: JSON.stringify(INITIALIZE) });
  if (res.status !== 200) throw new Error(`initialize answered ${res.status}`);
  await res.text();
  const id = res.headers.get('Mcp-Session-Id');
  if (!id) throw new Error('no Mcp-Session-Id');
  return id;
}
