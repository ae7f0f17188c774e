import { z } from '@hono/zod-openapi';
import { agentRoutes } from './agents';
import { auditRoutes } from './audit-api';
import { connectorRoutes, lookupConnector } from './connectors';
import {
  conversationDelivery,
  conversationRoutes,
  conversationSealedStore,
  forgetAgentConversations,
  resumeOnDecision,
} from './conversations';
import { eventRoutes } from './events-api';
import { apiKeyRoutes, sessionRoutes, setupRoutes, userRoutes, type Argon2id, type Clock, type LoginThrottle } from './auth';
import { healthRoutes } from './health';
import type { OAUTH_PROTOCOL_PATHS } from './mcp';
import { MCP_MAX_BODY_BYTES, mcpRoutes, OAUTH_BODY_MAX_BYTES, OAUTH_SCOPE, oauthRoutes } from './mcp';
import { DEFAULT_ROUTE_TABLE, rateLimit } from './ratelimit';
import { vaultRoutes } from './vault';
import {
  clientIp,
  cors,
  createRouter,
  errorResponses,
  handleError,
  jsonBody,
  rawBodyLimit,
  notFoundOrMethodNotAllowed,
  requestClock,
  requestId,
  securityHeaders,
} from './http';
import { policyRoutes, toolRoutes } from './tools';
import { noAgentRuntimeDelivery, webhookRoutes } from './webhooks';
import { dashboardRoutes } from './dashboard';

/** What each hook route accepts and answers (docs/webhooks.md has the numbered steps). */
const HOOK_DESCRIPTIONS = {
  discord:
    'Interaction JSON signed with Ed25519. PING is answered with PONG; commands, components and modal submits with a deferred response (type 5) at once, the reply following on the interaction webhook within 15 minutes.',
  slack:
    'Events API JSON, or an application/x-www-form-urlencoded slash command, signed with the v0 HMAC over the raw body. Acknowledged with an empty 200 at once; a slash command is answered through its response_url, which must be on hooks.slack.com (else 400).',
  telegram:
    'Bot API Update JSON with the setWebhook secret token in X-Telegram-Bot-Api-Secret-Token. Acknowledged with an empty 200; the reply goes by sendMessage.',
} as const;

export interface AppOptions {
  /** Clock for every time-based decision; tests inject one to cross expiry windows. */
  now?: Clock;
  loginThrottle: LoginThrottle;
  /** Argon2id for sign-in and password routes; tests wrap the real one to count the work (never time). */
  argon2id?: Argon2id;
  /** Outbound fetch for platform replies, manifest URLs, the local tool runner and model providers; tests inject one (there is no internet here). */
  fetch?: typeof fetch;
}

/**
 * Builds the Worker's Hono app from the capability folders. Order matters: request id and
 * security headers wrap everything (errors included), CORS refuses foreign preflights
 * before any route runs, and the JSON body guard runs before any handler reads a body.
 * Rate limiting comes right after the client IP is known and before the body guard, so a
 * flood is refused before any body is read or any signature, password or D1 lookup runs.
 */
export function createApp(options: AppOptions) {
  const now = options.now ?? Date.now;
  const outbound = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const app = createRouter();

  app.use('*', requestId(), securityHeaders(), cors(), clientIp(), rateLimit(DEFAULT_ROUTE_TABLE, options.now ? { now: options.now } : {}));
  app.use('*', requestClock(now));
  app.use('/api/*', jsonBody());
  // /mcp carries one JSON-RPC message per POST: its own, smaller cap (docs/mcp.md).
  app.use('/mcp/*', jsonBody({ maxBytes: MCP_MAX_BODY_BYTES }));
  // The OAuth endpoints read form or JSON bodies themselves (the library, the consent form): a byte cap only.
  app.use('/oauth/*', rawBodyLimit({ maxBytes: OAUTH_BODY_MAX_BYTES }));

  app.route('/', healthRoutes({ fetch: options.fetch ?? ((input, init) => fetch(input, init)) }));
  app.route('/', setupRoutes(now));
  app.route('/', sessionRoutes(now, options.loginThrottle, options.argon2id));
  app.route('/', userRoutes(now));
  app.route('/', apiKeyRoutes(now));
  app.route('/', auditRoutes());
  app.route('/', agentRoutes(now, { beforeDelete: forgetAgentConversations }));
  // Rotation reaches every conversation object's sealed rows too, not only vault_secrets.
  app.route('/', vaultRoutes(now, { sealedStores: (env) => [conversationSealedStore(env)] }));
  app.route('/', connectorRoutes(now));
  app.route('/', policyRoutes());
  app.route('/', eventRoutes());
  const onApprovalDecided = resumeOnDecision();
  app.route('/', toolRoutes({ now, fetch: outbound, onApprovalDecided }));
  app.route('/', conversationRoutes({ now, fetch: outbound }));
  app.route('/', mcpRoutes({ now, fetch: outbound }));
  app.route('/', oauthRoutes({ now }));
  // An agent with a model gets the runtime; one without keeps the "no agent runtime configured" reply.
  const deliverInbound = conversationDelivery({
    now,
    fetch: outbound,
    fallback: noAgentRuntimeDelivery({ fetch: options.fetch ?? fetch }),
  });
  app.route('/', webhookRoutes({ lookup: lookupConnector, deliverInbound, clock: now }));

  // The operator dashboard: HTML pages at / and below (not in the OpenAPI document).
  app.route(
    '/',
    dashboardRoutes({
      now,
      throttle: options.loginThrottle,
      argon2id: options.argon2id,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      onApprovalDecided,
    }),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'pcl_… API key' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-portcullis_session',
    description: 'Session cookie from POST /api/v1/auth/login; unsafe methods also need X-CSRF-Token',
  });
  // The hook routes read raw bodies (verified before parsing), so they are plain Hono routes;
  // they are described here so the document lists every route the gateway serves.
  for (const platform of ['discord', 'slack', 'telegram'] as const) {
    app.openAPIRegistry.registerPath({
      method: 'post',
      path: `/hooks/${platform}/{connectorId}`,
      operationId: `receive${platform[0]?.toUpperCase()}${platform.slice(1)}Webhook`,
      // Public: each platform signs its requests instead (docs/webhooks.md).
      security: [],
      summary: `${platform[0]?.toUpperCase()}${platform.slice(1)} webhook (signature-verified; see docs/webhooks.md)`,
      description: HOOK_DESCRIPTIONS[platform],
      request: { params: z.object({ connectorId: z.string() }) },
      responses: {
        200: { description: 'Acknowledged' },
        ...errorResponses(400, 401, 404, 413, 429),
      },
    });
  }

  // The MCP endpoint speaks JSON-RPC over Streamable HTTP (docs/mcp.md), so it is a plain Hono
  // route too; described here so the document lists it.
  for (const method of ['post', 'get', 'delete'] as const) {
    app.openAPIRegistry.registerPath({
      method,
      path: '/mcp/agents/{id}',
      operationId: { post: 'mcpPost', get: 'mcpGet', delete: 'mcpDelete' }[method],
      security: [{ apiKey: ['tools:invoke'] }, { oauth: [OAUTH_SCOPE] }],
      summary: {
        post: 'MCP Streamable HTTP: one JSON-RPC message (initialize, tools/list, tools/call); see docs/mcp.md',
        get: 'MCP Streamable HTTP: no server-initiated stream (405)',
        delete: 'MCP Streamable HTTP: end the session named by Mcp-Session-Id',
      }[method],
      request: { params: z.object({ id: z.string() }) },
      responses: {
        ...(method === 'post' ? { 200: { description: 'A JSON-RPC response (application/json or text/event-stream)' } } : {}),
        ...(method === 'post' ? { 202: { description: 'A notification or response accepted' } } : {}),
        ...(method === 'delete' ? { 204: { description: 'Session ended' } } : {}),
        ...errorResponses(400, 401, 403, 404, ...(method === 'get' ? [405 as const] : []), 413, 415, 429),
      },
    });
  }

  // OAuth 2.1 for MCP clients (docs/mcp.md "OAuth"): the library's protocol endpoints and the
  // consent page are plain routes, described here. Public: the token endpoint authenticates
  // the client and the code itself, the consent page the session cookie and its form token.
  app.openAPIRegistry.registerComponent('securitySchemes', 'oauth', {
    type: 'oauth2',
    description: 'OAuth 2.1 (authorization code + PKCE S256, dynamic client registration); a token is bound to one agent',
    flows: {
      authorizationCode: {
        authorizationUrl: '/oauth/authorize',
        tokenUrl: '/oauth/token',
        refreshUrl: '/oauth/token',
        scopes: { [OAUTH_SCOPE]: 'Call the tools of the one agent granted' },
      },
    },
  });
  const oauthOperations: Record<(typeof OAUTH_PROTOCOL_PATHS)[number], { method: 'get' | 'post'; operationId: string; summary: string }> = {
    '/oauth/token': {
      method: 'post',
      operationId: 'oauthToken',
      summary: 'OAuth token endpoint: code exchange (PKCE), refresh (rotating), revocation (RFC 7009)',
    },
    '/oauth/register': { method: 'post', operationId: 'oauthRegister', summary: 'OAuth dynamic client registration (RFC 7591)' },
    '/.well-known/oauth-authorization-server': {
      method: 'get',
      operationId: 'oauthAuthorizationServerMetadata',
      summary: 'Authorization server metadata (RFC 8414)',
    },
    '/.well-known/oauth-protected-resource/mcp': {
      method: 'get',
      operationId: 'oauthProtectedResourceMetadata',
      summary: 'Protected resource metadata (RFC 9728) of /mcp',
    },
  };
  for (const [path, operation] of Object.entries(oauthOperations))
    app.openAPIRegistry.registerPath({
      ...operation,
      path,
      security: [],
      responses: { 200: { description: 'The OAuth answer (JSON; errors as RFC 6749 §5.2)' }, ...errorResponses(400, 401, 404, 413, 429) },
    });
  for (const method of ['get', 'post'] as const)
    app.openAPIRegistry.registerPath({
      method,
      path: '/oauth/authorize',
      operationId: method === 'get' ? 'oauthConsentPage' : 'oauthConsentDecision',
      security: [],
      summary:
        method === 'get' ? 'Consent page (HTML; a signed-in member picks one agent)' : 'Consent form post (session cookie + form token)',
      responses: {
        ...(method === 'get' ? { 200: { description: 'The consent page (text/html)' } } : { 302: { description: 'Back to the client' } }),
        ...errorResponses(400, 401, 403, 413, 429),
      },
    });

  app.doc31('/api/v1/openapi.json', {
    openapi: '3.1.0',
    // Relative: the document describes whichever deployment serves it (OpenAPI 3.1 §4.8.5).
    servers: [{ url: '/', description: 'The gateway serving this document' }],
    info: {
      title: 'Portcullis',
      version: '0.1.0',
      description: 'Security gateway for AI agents. Errors use the envelope {"error":{"code","message","requestId"}}.',
    },
  });

  app.onError(handleError);
  app.notFound(notFoundOrMethodNotAllowed(app));
  return app;
}
