/**
 * `tools/call` through the one pipeline (src/tools/invoke.ts: arguments, approval, per-agent
 * concurrency, sandbox, redaction, audit). Nothing here decides whether a call may run; it
 * only translates. Precedence of what the client gets, first match wins:
 * 1. the tool is not installed on this agent → JSON-RPC error -32602 (a protocol error, as
 *    MCP 2025-06-18 "Error Handling" says for unknown tools);
 * 2. the pipeline refuses (ApiError: invalid arguments, policy, isolation, concurrency,
 *    executor unavailable) → a tool error (`isError: true`) carrying the gateway's code and
 *    message, never its internals;
 * 3. the call waits for an approval → progress notifications while it waits (when the
 *    client sent a progressToken), then 4 or 5;
 * 4. it ran: the stored (redacted) result; `isError` unless it completed with exit 0;
 * 5. denied, expired, or still undecided when the wait ends → a tool error saying so.
 * Any other failure → JSON-RPC internal error with a generic message (logged with the request id).
 */
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createDb } from '../db';
import type { Env } from '../env';
import { ApiError } from '../http';
import { requireVault } from '../vault';
import {
  expireStaleApprovals,
  findInstalledTool,
  invocationInWorkspace,
  invocationView,
  invokeTool,
  readToolConfig,
  type AgentRow,
  type InvocationRow,
  type ToolCaller,
} from '../tools';

/** First and longest pause between two looks at a waiting call; it grows by half each time. */
export const APPROVAL_POLL_FIRST_MS = 1_000;
export const APPROVAL_POLL_MAX_MS = 5_000;
/** Slack after the approval's expiry plus the longest run, so an approval granted at the last moment still reports its result. */
const WAIT_SLACK_MS = 30_000;

export interface CallDeps {
  env: Env;
  now: () => number;
  fetch: typeof fetch;
  requestId: string;
}

/** What the SDK hands a request handler that this file uses. */
export interface CallExtra {
  signal: AbortSignal;
  progressToken: string | number | undefined;
  sendProgress: (progress: number, message: string) => Promise<void>;
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** 2. A refusal as the client sees it: the wire code and message, the field paths for arguments. */
export function refusalResult(error: ApiError): CallToolResult {
  const fields = error.details.fields?.length ? ` (${error.details.fields.join(', ')})` : '';
  const retry = error.headers['Retry-After'] ? ` Retry after ${error.headers['Retry-After']} s.` : '';
  return toolError(`${error.code}: ${error.message}${fields}${retry}`);
}

interface RanCall {
  id: string;
  status: string;
  exitCode: number | null;
  stdout: string | null;
  stderr: string | null;
  truncated: boolean;
  durationMs: number | null;
}

/** 4. A finished call: output as stored (already redacted); the same fields as the REST result as structured content. */
function ranResult(row: RanCall): CallToolResult {
  const ok = row.status === 'completed';
  const content: CallToolResult['content'] = [];
  if (!ok) content.push({ type: 'text', text: `The tool call ${row.status} (exit code ${row.exitCode ?? 'none'}).` });
  content.push({ type: 'text', text: row.stdout ?? '' });
  if (row.stderr) content.push({ type: 'text', text: `stderr:\n${row.stderr}` });
  const { id, status, exitCode, stdout, stderr, truncated, durationMs } = row;
  return { isError: !ok, content, structuredContent: { id, status, exitCode, stdout, stderr, truncated, durationMs } };
}

function finalResult(row: InvocationRow): CallToolResult | null {
  switch (row.status) {
    case 'completed':
    case 'failed':
    case 'timed_out':
      return ranResult(invocationView(row));
    case 'denied':
      return toolError(`DENIED: an operator denied this call (invocation ${row.id}); it did not run.`);
    case 'expired':
      return toolError(`EXPIRED: nobody decided the approval in time (invocation ${row.id}); the call did not run.`);
    case 'pending_approval':
    case 'running':
      return null;
  }
}

/** Resolves after `ms`, or at once when the client goes away. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * 3. Waits for a pending call's outcome, polling its row with a growing interval
 * (APPROVAL_POLL_FIRST_MS → APPROVAL_POLL_MAX_MS). The wait ends at the approval's expiry
 * (then the approval is expired, which means denied), or once approved at the expiry plus
 * the longest run this deployment allows, or when the client cancels or disconnects.
 */
async function awaitDecision(
  deps: CallDeps,
  pending: { invocationId: string; approvalId: string; expiresAt: number },
  workspaceId: string,
  extra: CallExtra,
): Promise<CallToolResult> {
  const db = createDb(deps.env.DB);
  const config = readToolConfig(deps.env);
  const runBudgetMs = config.ok ? config.config.maxTimeoutMs + config.config.queueWaitMs : 0;
  const giveUpAt = pending.expiresAt + runBudgetMs + WAIT_SLACK_MS;
  let interval = APPROVAL_POLL_FIRST_MS;
  let tick = 0;
  for (;;) {
    const at = deps.now();
    if (at >= pending.expiresAt) await expireStaleApprovals(db, workspaceId, at);
    const row = await invocationInWorkspace(db, workspaceId, pending.invocationId);
    if (!row) return toolError(`NOT_FOUND: invocation ${pending.invocationId} is gone.`);
    const result = finalResult(row);
    if (result) return result;
    if (extra.signal.aborted || at >= giveUpAt)
      return toolError(
        `PENDING: invocation ${pending.invocationId} has no result yet; read it later with GET /api/v1/invocations/${pending.invocationId}.`,
      );
    if (extra.progressToken !== undefined) {
      tick += 1;
      const message =
        row.status === 'running'
          ? `Approved; running (invocation ${row.id}).`
          : `Waiting for an operator to approve (approval ${pending.approvalId}, expires ${new Date(pending.expiresAt).toISOString()}).`;
      // A stream the client has closed cannot take the notification: stop waiting, the call stays pending.
      const sent = await extra.sendProgress(tick, message).then(
        () => true,
        () => false,
      );
      if (!sent) return toolError(`PENDING: invocation ${pending.invocationId} has no result yet.`);
    }
    await pause(interval, extra.signal);
    interval = Math.min(APPROVAL_POLL_MAX_MS, Math.round(interval * 1.5));
  }
}

/** One `tools/call` of `name` on `agent` by `caller`. */
export async function callTool(
  deps: CallDeps,
  caller: ToolCaller,
  agent: AgentRow,
  name: string,
  args: Record<string, unknown>,
  extra: CallExtra,
): Promise<CallToolResult> {
  const db = createDb(deps.env.DB);
  try {
    let tool;
    try {
      tool = await findInstalledTool(db, agent.id, name);
    } catch (error) {
      // 1.
      if (error instanceof ApiError && error.code === 'NOT_FOUND') throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
      throw error;
    }
    const outcome = await invokeTool(
      {
        env: deps.env,
        db,
        now: deps.now,
        fetch: deps.fetch,
        requestId: deps.requestId,
        openVault: () => requireVault(deps.env, deps.requestId),
      },
      caller,
      agent,
      tool,
      args,
    );
    if (outcome.status === 'ran') return ranResult(outcome.result);
    return await awaitDecision(deps, outcome, agent.workspaceId, extra);
  } catch (error) {
    if (error instanceof McpError) throw error;
    // 2.
    if (error instanceof ApiError && error.code !== 'INTERNAL') return refusalResult(error);
    console.error(JSON.stringify({ event: 'mcp.tool_call_failed', requestId: deps.requestId, error: String(error) }));
    throw new McpError(ErrorCode.InternalError, `Internal error (request ${deps.requestId}).`);
  }
}
