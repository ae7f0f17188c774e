/** The MCP gateway (docs/mcp.md): an agent's installed tools over MCP Streamable HTTP. */
export { MCP_MAX_BODY_BYTES, MCP_SESSION_HEADER, mcpRoutes } from './routes';
export { MCP_SESSION_TTL_MS } from './sessions';
export { APPROVAL_POLL_FIRST_MS, APPROVAL_POLL_MAX_MS } from './tool-call';
export { OAUTH_BODY_MAX_BYTES, OAUTH_PROTOCOL_PATHS, OAUTH_SCOPE, oauthRoutes } from './oauth';
