/**
 * POST/GET/DELETE /mcp/agents/:id: the agent's tools over MCP Streamable HTTP (MCP
 * 2025-06-18 "Transports"), with the SDK's web-standard server transport run stateless per
 * request and the session kept in D1 (sessions.ts). Each request, first refusal wins
 * (docs/mcp.md "Request checks" has the same numbers):
 * 1. an `Origin` header that is not the gateway's own or a configured one → 403 (DNS
 *    rebinding; the specification requires the check on every request). No Origin (a
 *    non-browser client) passes; a browser always sends one on a cross-origin request;
 * 2. (app.ts, before this file) rate limit per address, then per token → 429; a body that
 *    is not application/json → 415, over MCP_MAX_BODY_BYTES → 413;
 * 3. no `Authorization: Bearer` token, or an unknown, revoked or expired API key (`pcl_…`) or
 *    OAuth access token (anything else; a revoked grant too) → 401 with `WWW-Authenticate:
 *    Bearer …, resource_metadata="…"` (RFC 6750 §3, RFC 9728 §5.1); a session cookie is never
 *    read here, so a browser's ambient credentials cannot drive the endpoint (no CSRF surface);
 * 4. the token lacks `tools:invoke` → 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`;
 * 5. the agent is not in the token's workspace (or does not exist), or an OAuth token was
 *    granted for another agent → 404, the same answer;
 * 6. GET → 405: the server never sends requests of its own, so there is no standalone stream;
 * 7. DELETE → ends the session named by `Mcp-Session-Id` (204), 404 if it is not this
 *    credential's live session on this agent;
 * 8. POST: not JSON → JSON-RPC -32700; a batch (an array; removed in MCP 2025-06-18) →
 *    -32600; `initialize` → a new session; anything else without `Mcp-Session-Id` → 400,
 *    with one that is not this credential's live session on this agent → 404;
 * 9. the transport answers (protocol-version, Accept and message-shape checks are the SDK's),
 *    then tools/list and tools/call (server.ts).
 * Nothing here answers 500 for anything a client sends: refusals are the envelopes above,
 * protocol errors are JSON-RPC errors.
 */
import type { Context } from 'hono';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { findAgent } from '../agents';
import { recordAudit } from '../audit';
import { API_KEY_PREFIX, authenticate, grantPrincipal, principalOf, type Clock, type Principal } from '../auth';
import { createDb } from '../db';
import type { AppEnv } from '../env';
import { ApiError, createRouter, isAllowedOrigin, parseAllowedOrigins } from '../http';
import { parseBearer } from '../lib';
import { callerOf } from '../tools';
import { liveGrant, mcpResource, OAUTH_SCOPE, oauthApi, resourceMetadataUrl, type McpGrantProps } from './oauth';
import { agentServer } from './server';
import { closeSession, openSession, sessionIsLive, type SessionBinding } from './sessions';

/** MCP bodies are one JSON-RPC message; tool arguments are capped at 64 KiB (ARGUMENTS_MAX_BYTES), so this leaves room for the envelope. */
export const MCP_MAX_BODY_BYTES = 128 * 1024;

export const MCP_SESSION_HEADER = 'Mcp-Session-Id';

const BEARER_CHALLENGE = 'Bearer realm="portcullis"';

/** A JSON-RPC error answered by the route itself (before the transport), id null as JSON-RPC 2.0 §5.1 says when the id is unknown. */
function jsonRpcError(status: 400 | 404 | 405, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** RFC 6750 §3 with RFC 9728 §5.1: the challenge names where the client discovers how to get a token. */
function challenge(c: Context<AppEnv>, extra = ''): string {
  return `${BEARER_CHALLENGE}, resource_metadata="${resourceMetadataUrl(new URL(c.req.url).origin)}"${extra}`;
}

function unauthenticated(c: Context<AppEnv>, sent: boolean): ApiError {
  return new ApiError('UNAUTHENTICATED', undefined, {}, { 'WWW-Authenticate': challenge(c, sent ? ', error="invalid_token"' : '') });
}

/**
 * 3–5 for an OAuth access token (docs/mcp.md "OAuth"): the library's record (hash lookup,
 * expiry, props decrypted with the token), the audience (this gateway's /mcp), the grant's
 * row in D1 (live, same workspace and user: a revocation applies at once), the user as they
 * are now (grantPrincipal), and the agent the grant names: any other agent's endpoint → 404.
 */
async function oauthPrincipal(c: Context<AppEnv>, token: string): Promise<{ principal: Principal; credentialId: string }> {
  const origin = new URL(c.req.url).origin;
  const summary = await oauthApi(origin, c.env).unwrapToken<McpGrantProps>(token);
  const audience = summary ? [summary.audience].flat() : [];
  if (!summary || !audience.includes(mcpResource(origin))) throw unauthenticated(c, true);
  const props = summary.grant.props;
  const db = createDb(c.env.DB);
  const grant = await liveGrant(db, summary.grantId, summary.userId, props.workspaceId);
  if (!grant || grant.agentId !== props.agentId || grant.userId !== props.userId) throw unauthenticated(c, true);
  const principal = await grantPrincipal(db, { userId: grant.userId, workspaceId: grant.workspaceId, grantId: grant.id });
  if (!principal) throw unauthenticated(c, true);
  if (!summary.scope.includes(OAUTH_SCOPE) || !principal.scopes.has('tools:invoke'))
    throw new ApiError(
      'FORBIDDEN',
      'The token needs the scope tools:invoke.',
      {},
      {
        'WWW-Authenticate': challenge(c, ', error="insufficient_scope", scope="tools:invoke"'),
      },
    );
  // 5: bound to one agent; another agent's endpoint answers as if it did not exist.
  if (c.req.param('id') !== grant.agentId) throw new ApiError('NOT_FOUND');
  return { principal, credentialId: grant.id };
}

/** 3–4: the caller, from a scoped API key (`pcl_…`) or an OAuth access token. */
async function mcpPrincipal(c: Context<AppEnv>): Promise<{ principal: Principal; credentialId: string }> {
  const bearer = parseBearer(c.req.header('Authorization'));
  if (bearer.kind !== 'token') throw unauthenticated(c, false);
  if (!bearer.token.startsWith(API_KEY_PREFIX)) return oauthPrincipal(c, bearer.token);
  try {
    await authenticate()(c, async () => {});
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') throw unauthenticated(c, true);
    throw error;
  }
  const principal = principalOf(c);
  // A pcl_ Bearer always resolves to an API key (authenticate.ts); sessions bind to its id, so no id means no entry.
  const credentialId = principal.kind === 'api_key' ? principal.apiKeyId : undefined;
  if (!credentialId) throw unauthenticated(c, false);
  if (!principal.scopes.has('tools:invoke'))
    throw new ApiError(
      'FORBIDDEN',
      'The token needs the scope tools:invoke.',
      {},
      {
        'WWW-Authenticate': challenge(c, ', error="insufficient_scope", scope="tools:invoke"'),
      },
    );
  return { principal, credentialId };
}

function withHeader(response: Response, name: string, value: string): Response {
  const copy = new Response(response.body, response);
  copy.headers.set(name, value);
  return copy;
}

async function readMessage(c: Context<AppEnv>): Promise<{ ok: true; message: unknown } | { ok: false }> {
  // The body guard (app.ts) caps the bytes while they are read: an oversize body throws 413 from here.
  const text = await c.req.text();
  try {
    return { ok: true, message: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

export function mcpRoutes(deps: { now: Clock; fetch: typeof fetch }) {
  const router = createRouter();

  router.on(['POST', 'GET', 'DELETE'], '/mcp/agents/:id', async (c) => {
    // 1.
    const origin = c.req.header('Origin');
    if (origin !== undefined && !isAllowedOrigin(origin, c.req.url, parseAllowedOrigins(c.env.ALLOWED_ORIGINS)))
      throw new ApiError('FORBIDDEN', 'Origin not allowed.');
    // 3–4.
    const { principal, credentialId } = await mcpPrincipal(c);
    const db = createDb(c.env.DB);
    // 5.
    const agent = await findAgent(db, principal.workspaceId, c.req.param('id'));
    const at = deps.now();
    const binding: SessionBinding = { workspaceId: agent.workspaceId, agentId: agent.id, credentialId };
    const sessionId = c.req.header(MCP_SESSION_HEADER);
    const audit = (kind: 'mcp.session.opened' | 'mcp.session.closed') =>
      recordAudit(
        c.env,
        {
          workspaceId: agent.workspaceId,
          kind,
          actor: callerOf(principal).actor,
          data: { agentId: agent.id, credentialId: binding.credentialId },
        },
        at,
      );

    // 6.
    if (c.req.method === 'GET')
      return jsonRpcError(405, -32000, 'Method not allowed: this server opens no stream of its own.', { Allow: 'POST, DELETE' });
    // 7.
    if (c.req.method === 'DELETE') {
      if (!sessionId || !(await closeSession(db, sessionId, binding, at))) return jsonRpcError(404, -32001, 'Session not found');
      await audit('mcp.session.closed');
      return c.body(null, 204);
    }

    // 8.
    const read = await readMessage(c);
    if (!read.ok) return jsonRpcError(400, -32700, 'Parse error: the body is not JSON.');
    if (Array.isArray(read.message))
      return jsonRpcError(400, -32600, 'Invalid Request: JSON-RPC batches are not supported (MCP 2025-06-18).');
    const initializing = isInitializeRequest(read.message);
    if (!initializing) {
      if (!sessionId) return jsonRpcError(400, -32000, `Bad Request: the ${MCP_SESSION_HEADER} header is required.`);
      if (!(await sessionIsLive(db, sessionId, binding, at))) return jsonRpcError(404, -32001, 'Session not found');
    }

    // 9.
    const requestId = c.get('requestId');
    const server = agentServer({ env: c.env, now: deps.now, fetch: deps.fetch, requestId }, callerOf(principal), agent, c.req.raw.signal);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    const response = await transport.handleRequest(c.req.raw, { parsedBody: read.message });
    if (!initializing || !response.ok) return response;
    const opened = await openSession(db, binding, at);
    await audit('mcp.session.opened');
    return withHeader(response, MCP_SESSION_HEADER, opened);
  });

  return router;
}
