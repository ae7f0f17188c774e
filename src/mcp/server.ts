/**
 * The MCP server of one agent, built per request: the transport runs stateless (sessions.ts
 * explains why), so nothing of a client survives in the isolate between requests. It offers
 * tools only: `tools/list` (tool-list.ts) and `tools/call` (tool-call.ts).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker-provider.js';
import { createDb } from '../db';
import { installedToolsOf, type AgentRow, type ToolCaller } from '../tools';
import { callTool, type CallDeps } from './tool-call';
import { mcpToolOf } from './tool-list';

export const MCP_SERVER_NAME = 'portcullis';
export const MCP_SERVER_VERSION = '0.1.0';

/** `connection` aborts when the HTTP request does (the client went away): a waiting call stops polling. */
export function agentServer(deps: CallDeps, caller: ToolCaller, agent: AgentRow, connection: AbortSignal): Server {
  // Ajv (the SDK's default validator) compiles schemas with `new Function`, which Workers forbid.
  const server = new Server(
    { name: MCP_SERVER_NAME, version: MCP_SERVER_VERSION },
    {
      capabilities: { tools: { listChanged: false } },
      instructions: `Tools of the Portcullis agent ${JSON.stringify(agent.name)}. Every call runs in a sandbox under the tool's declared capabilities; some need an operator's approval.`,
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    try {
      const rows = await installedToolsOf(createDb(deps.env.DB), agent.id);
      return { tools: rows.map(mcpToolOf) };
    } catch (error) {
      // The SDK would send the error's own message (a D1 error can name tables): log it, answer generically.
      console.error(JSON.stringify({ event: 'mcp.tools_list_failed', requestId: deps.requestId, error: String(error) }));
      throw new McpError(ErrorCode.InternalError, `Internal error (request ${deps.requestId}).`);
    }
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const progressToken = request.params._meta?.progressToken;
    return callTool(deps, caller, agent, request.params.name, request.params.arguments ?? {}, {
      signal: AbortSignal.any([extra.signal, connection]),
      progressToken,
      sendProgress: async (progress, message) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, message } });
      },
    });
  });

  return server;
}
