/**
 * OAuth 2.1 for the MCP endpoint through `@cloudflare/workers-oauth-provider` (docs/mcp.md
 * "OAuth"). The library owns the protocol endpoints (token, registration, both discovery
 * documents) and stores clients, grants and hashed tokens in OAUTH_KV; the consent page
 * (consent.ts) and the token check on /mcp (routes.ts, `oauthCaller`) are ours.
 *
 * The library is handed only the requests for its own endpoints (`OAUTH_PROTOCOL_PATHS`,
 * routes.ts mounts them); /mcp requests stay in the Hono app so the MCP request checks keep
 * their order (Origin, rate limit per token, body cap) for both kinds of token, and the token
 * is checked with the library's `unwrapToken` (hash lookup, expiry, props decryption) plus
 * the audience and the grant's row in D1 (grants.ts).
 */
import { getOAuthApi, OAuthProvider, type OAuthHelpers, type OAuthProviderOptions } from '@cloudflare/workers-oauth-provider';
import type { Env } from '../../env';

/** The one scope an OAuth client can hold: call the tools of the one agent it was granted. */
export const OAUTH_SCOPE = 'tools:invoke';
/** Access tokens live one hour; refresh tokens rotate on every use and the grant ends 30 days after the code exchange. */
export const OAUTH_ACCESS_TOKEN_TTL_S = 60 * 60;
export const OAUTH_REFRESH_TOKEN_TTL_S = 30 * 24 * 60 * 60;
/** A dynamically registered client that is never used is forgotten after 90 days (the library renews it while used). */
export const OAUTH_CLIENT_TTL_S = 90 * 24 * 60 * 60;

/** Registration metadata, token requests and the consent form are small; this caps what the library or the form reads. */
export const OAUTH_BODY_MAX_BYTES = 16 * 1024;

export const OAUTH_AUTHORIZE_PATH = '/oauth/authorize';
export const OAUTH_TOKEN_PATH = '/oauth/token';
export const OAUTH_REGISTER_PATH = '/oauth/register';
/**
 * RFC 8414 §3 and RFC 9728 §3: the protected resource is `<origin>/mcp`, so its metadata is at
 * the path-suffixed form only (§3.3: the metadata's `resource` must be the identifier the URL
 * was built from, so neither the root form nor a per-agent form may answer with it; the 401
 * challenge names the URL, RFC 9728 §5.1).
 */
export const OAUTH_PROTOCOL_PATHS = [
  OAUTH_TOKEN_PATH,
  OAUTH_REGISTER_PATH,
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource/mcp',
] as const;

/** What the consent page stores with a grant (encrypted by the library; only the token holder's token unwraps it). */
export interface McpGrantProps {
  workspaceId: string;
  agentId: string;
  userId: string;
}

/** The protected resource: every agent's endpoint lives under it (path-prefix audience), the grant names the one agent. */
export function mcpResource(origin: string): string {
  return `${origin}/mcp`;
}

export function resourceMetadataUrl(origin: string): string {
  return `${origin}/.well-known/oauth-protected-resource/mcp`;
}

const notHere: ExportedHandler<Env> & { fetch: (request: Request) => Response } = {
  fetch: () => new Response(null, { status: 404 }),
};

/**
 * The library's options for the deployment at `origin` (the issuer is the gateway itself).
 * Both handlers answer 404: the library is only ever called for its own endpoints, and
 * /oauth/authorize is served by consent.ts before it.
 */
export function oauthOptions(origin: string): OAuthProviderOptions<Env> {
  return {
    apiRoute: '/mcp/',
    apiHandler: notHere,
    defaultHandler: notHere,
    authorizeEndpoint: OAUTH_AUTHORIZE_PATH,
    tokenEndpoint: OAUTH_TOKEN_PATH,
    clientRegistrationEndpoint: OAUTH_REGISTER_PATH,
    scopesSupported: [OAUTH_SCOPE],
    requiredScopes: [OAUTH_SCOPE],
    resourceMetadata: {
      resource: mcpResource(origin),
      authorization_servers: [origin],
      resource_name: 'Portcullis MCP gateway',
    },
    accessTokenTTL: OAUTH_ACCESS_TOKEN_TTL_S,
    refreshTokenTTL: OAUTH_REFRESH_TOKEN_TTL_S,
    clientRegistrationTTL: OAUTH_CLIENT_TTL_S,
    // No Client ID Metadata Documents: they need outbound fetches to client-chosen URLs.
    clientIdMetadataDocumentEnabled: false,
    allowTokenExchangeGrant: false,
    // The library logs a warning by default; the answer on the wire is unchanged.
    onError: () => undefined,
  };
}

/** One provider per origin per isolate (a deployment has one or two origins). */
const providers = new Map<string, OAuthProvider<Env>>();

export function oauthProvider(origin: string): OAuthProvider<Env> {
  let provider = providers.get(origin);
  if (!provider) {
    if (providers.size >= 8) providers.clear();
    provider = new OAuthProvider<Env>(oauthOptions(origin));
    providers.set(origin, provider);
  }
  return provider;
}

export function oauthApi(origin: string, env: Env): OAuthHelpers {
  return getOAuthApi(oauthOptions(origin), env);
}
