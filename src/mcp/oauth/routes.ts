/**
 * OAuth routes of the gateway (docs/mcp.md "OAuth"):
 * - the library's protocol endpoints (token, dynamic client registration, RFC 8414 and RFC
 *   9728 discovery), handed to it as they are; public by nature (the token endpoint
 *   authenticates the client and the code or refresh token itself);
 * - the consent page (consent.ts);
 * - GET/DELETE /api/v1/oauth/grants: a workspace's grants, and revocation (scope agents:write:
 *   whoever may change the workspace's agents may see and cut who calls them).
 */
import { z } from '@hono/zod-openapi';
import { actorOfPrincipal, principalOf, secured, signedIn, type Clock } from '../../auth';
import type { AppEnv } from '../../env';
import { createRouter, errorResponses, jsonContent, valueOf } from '../../http';
import type { Context } from 'hono';
import { consentRoutes } from './consent';
import { listGrants, revokeGrant } from './grants';
import { OAUTH_PROTOCOL_PATHS, oauthProvider } from './provider';

const GrantView = z
  .object({
    id: z.string(),
    clientId: z.string(),
    clientName: z.string().openapi({ description: 'As the client registered it: self-asserted' }),
    agentId: z.string(),
    agentName: z.string().nullable(),
    userId: z.string(),
    userEmail: z.string().nullable(),
    scope: z.array(z.string()),
    createdAt: z.number().int(),
  })
  .openapi('OAuthGrant');
const GrantList = z.object({ grants: z.array(GrantView) }).openapi('OAuthGrantList');
const GrantIdParams = z.object({ id: z.string().min(1).max(64) });

const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/oauth/grants',
    operationId: 'listOAuthGrants',
    summary: 'Live OAuth grants of your workspace: client, agent, user, created (scope agents:write)',
    responses: { 200: { description: 'Grants', ...jsonContent(GrantList) }, ...errorResponses(401, 403) },
  },
  signedIn('agents:write'),
);
const revokeRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/oauth/grants/{id}',
    operationId: 'revokeOAuthGrant',
    summary: 'Revoke an OAuth grant: its tokens are refused from the next request (scope agents:write)',
    request: { params: GrantIdParams },
    responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:write'),
);

function executionCtxOf(c: Context<AppEnv>): ExecutionContext {
  try {
    return c.executionCtx as unknown as ExecutionContext;
  } catch {
    // app.request() in tests has none; the library only uses it for waitUntil.
    return { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
  }
}

export function oauthRoutes(deps: { now: Clock }) {
  const router = createRouter();

  // POST to the token and registration endpoints, GET (and HEAD) to the metadata; other methods get the app's 404/405.
  for (const path of OAUTH_PROTOCOL_PATHS)
    router.on(path.startsWith('/.well-known/') ? 'GET' : 'POST', path, (c) =>
      oauthProvider(new URL(c.req.url).origin).fetch(c.req.raw, c.env, executionCtxOf(c)),
    );

  router.route('/', consentRoutes(deps));

  router.openapi(listRoute, async (c) => c.json({ grants: valueOf(await listGrants(c.env, principalOf(c))) }, 200));

  router.openapi(revokeRoute, async (c) => {
    const principal = principalOf(c);
    valueOf(
      await revokeGrant(c.env, principal, actorOfPrincipal(principal), c.req.valid('param').id, new URL(c.req.url).origin, deps.now()),
    );
    return c.body(null, 204);
  });

  return router;
}
