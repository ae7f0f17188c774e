/** OAuth 2.1 for the MCP endpoint (docs/mcp.md "OAuth"). */
export { liveGrant } from './grants';
export {
  mcpResource,
  OAUTH_ACCESS_TOKEN_TTL_S,
  OAUTH_BODY_MAX_BYTES,
  OAUTH_PROTOCOL_PATHS,
  OAUTH_SCOPE,
  oauthApi,
  resourceMetadataUrl,
  type McpGrantProps,
} from './provider';
export { oauthRoutes } from './routes';
