/**
 * Running one stored invocation: limits, per-tool compile, environment, executor, redaction,
 * storage, audit. Called directly for calls that need no approval, and by the approvals API
 * once an approval has been atomically spent. Every refusal leaves the row in a final state.
 */
import { compiledSandbox } from '../protocol';
import { and, eq } from 'drizzle-orm';
import { recordAudit } from '../audit';
import { publishEvent } from '../events';
import type { agents } from '../db';
import { toolInvocations, type Database, type InvocationStatus } from '../db';
import type { Env } from '../env';
import { ApiError } from '../http';
import { compileManifest } from '../policy';
import { credentialRef, openSecret, workspaceRedactor, type Vault } from '../vault';
import { substituteArgv } from './arguments';
import { DEFAULT_TOOL_TIMEOUT_MS, logToolConfigProblem, readToolConfig } from './config';
import { createExecutor, type ToolCommand, type ToolRunResult } from './executor';
import type { ToolConcurrency } from './concurrency-object';
import { manifestToolOf, type InstalledToolRow } from './installed';
import { operatorAllowFrom } from './operator-allow';
import { removePlaceholders, toolEnvironment } from './tool-env';

/** Default when the agent's settings name no limit: one call at a time. */
export const DEFAULT_MAX_CONCURRENT_TOOLS = 1;
/** A lease outlives its call by this much, then frees itself (a Worker that died mid-call). */
const LEASE_GRACE_MS = 30_000;
/** How often a queued call asks for its slot (well under QUEUE_TICKET_STALE_MS). */
const QUEUE_POLL_MS = 200;

export interface RunContext {
  env: Env;
  db: Database;
  vault: Vault;
  now: () => number;
  fetch: typeof fetch;
  requestId: string;
}

export type AgentRow = typeof agents.$inferSelect;

export interface StoredResult {
  id: string;
  status: InvocationStatus;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
}

function statusOf(result: ToolRunResult): InvocationStatus {
  if (result.stopReason === 'timeout') return 'timed_out';
  return result.exitCode === 0 && (result.stopReason === 'exit' || result.stopReason === 'output-limit') ? 'completed' : 'failed';
}

async function finish(
  ctx: RunContext,
  invocationId: string,
  values: Partial<typeof toolInvocations.$inferInsert> & { status: InvocationStatus },
): Promise<void> {
  await ctx.db
    .update(toolInvocations)
    .set({ ...values, finishedAt: ctx.now() })
    .where(eq(toolInvocations.id, invocationId));
}

async function refuse(
  ctx: RunContext,
  row: { id: string; agentId: string; workspaceId: string },
  tool: string,
  reason: 'isolation-not-allowed' | 'executor-unavailable' | 'concurrency-limit' | 'policy-compile' | 'executor-refused',
  error: ApiError,
): Promise<never> {
  await finish(ctx, row.id, { status: 'failed', stopReason: reason });
  await recordAudit(
    ctx.env,
    { workspaceId: row.workspaceId, kind: 'tool.invocation.refused', actor: 'system', data: { agentId: row.agentId, tool, reason } },
    ctx.now(),
  );
  await publishEvent(ctx.env, {
    type: 'invocation.finished',
    workspaceId: row.workspaceId,
    at: ctx.now(),
    data: { invocationId: row.id, agentId: row.agentId, tool, status: 'failed', stopReason: reason },
  });
  throw error;
}

/**
 * The per-agent queue: wait in FIFO order for a slot, polling the agent's ToolConcurrency
 * object, for at most `queueWaitMs` (TOOL_QUEUE_WAIT_MS); then give up and withdraw.
 */
async function takeSlot(
  slots: DurableObjectStub<ToolConcurrency>,
  leaseId: string,
  max: number,
  ctx: RunContext,
  ttlMs: number,
  queueWaitMs: number,
): Promise<boolean> {
  const giveUpAt = Date.now() + queueWaitMs;
  for (;;) {
    const verdict = await slots.acquire(leaseId, max, ctx.now(), ttlMs, queueWaitMs > 0);
    if (verdict === 'granted') return true;
    if (verdict === 'refused' || Date.now() >= giveUpAt) {
      await slots.release(leaseId);
      return false;
    }
    await scheduler.wait(QUEUE_POLL_MS);
  }
}

function commandOf(tool: InstalledToolRow, args: Record<string, unknown>): ToolCommand | null {
  const entry = manifestToolOf(tool);
  if (!entry.run) return null;
  if ('argv' in entry.run) {
    const argv = substituteArgv(entry.run.argv, args);
    return argv ? { argv } : null;
  }
  return { mcp: { command: entry.run.mcp.command, tool: entry.run.mcp.tool, arguments: args } };
}

/**
 * Runs the invocation `invocationId` (already stored, status `running`) with exactly `args`.
 * Precedence of refusals, first wins: 1 isolation, 2 executor configuration (503), 2b the
 * agent's isolation not satisfiable by the configured executor (403), 3 nothing runnable /
 * compile (403), 4 concurrency (429), 5 credentials unreadable (503); then run.
 */
export async function runStoredInvocation(
  ctx: RunContext,
  agent: AgentRow,
  tool: InstalledToolRow,
  invocationId: string,
  args: Record<string, unknown>,
): Promise<StoredResult> {
  const row = { id: invocationId, agentId: agent.id, workspaceId: agent.workspaceId };
  // 1. unrestricted only behind the dangerous flag; even then the call goes through the configured sandbox.
  if (agent.isolation === 'unrestricted' && ctx.env.DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS !== 'true') {
    await refuse(
      ctx,
      row,
      tool.name,
      'isolation-not-allowed',
      new ApiError('POLICY_DENIED', 'Isolation "unrestricted" is disabled on this deployment.'),
    );
  }
  // 2. Configuration only decides the executor; anything missing or invalid refuses the call.
  const config = readToolConfig(ctx.env);
  if (!config.ok) {
    logToolConfigProblem(config.problem, ctx.requestId);
    return refuse(
      ctx,
      row,
      tool.name,
      'executor-unavailable',
      new ApiError('SERVICE_UNAVAILABLE', 'Tool execution is not configured on this deployment.'),
    );
  }
  // 2b. An agent that requires a container never runs in the local sandbox; `sandbox` and
  //     `unrestricted` agents run in whichever sandbox the deployment has (a container is stronger).
  if (agent.isolation === 'container' && config.config.kind !== 'container') {
    return refuse(
      ctx,
      row,
      tool.name,
      'isolation-not-allowed',
      new ApiError('POLICY_DENIED', 'This agent requires container isolation; this deployment runs tools in the local sandbox.'),
    );
  }
  // 3. Per-tool compile for the executor's target; a tool with nothing to run is refused.
  // The same private-destination rule as at install: an allowance withdrawn since refuses the call here.
  const compiled = compileManifest(tool.manifest, {
    target: config.config.kind === 'local' ? 'bwrap' : 'cloudflare',
    tool: tool.name,
    privateAllowed: operatorAllowFrom(ctx.env.TOOL_OPERATOR_ALLOW),
  });
  const command = commandOf(tool, args);
  if (!compiled.ok || command === null) return refuse(ctx, row, tool.name, 'policy-compile', new ApiError('POLICY_DENIED'));

  const settings = agent.settings as { toolTimeoutMs?: number; maxConcurrentTools?: number };
  const timeoutMs = Math.min(settings.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS, config.config.maxTimeoutMs);
  const maxConcurrent = settings.maxConcurrentTools ?? DEFAULT_MAX_CONCURRENT_TOOLS;
  // 4. Concurrency: an exact count per agent in its ToolConcurrency object.
  const slots = ctx.env.TOOL_CONCURRENCY.get(ctx.env.TOOL_CONCURRENCY.idFromName(`${agent.workspaceId}:${agent.id}`));
  if (!(await takeSlot(slots, invocationId, maxConcurrent, ctx, timeoutMs + LEASE_GRACE_MS, config.config.queueWaitMs))) {
    return refuse(
      ctx,
      row,
      tool.name,
      'concurrency-limit',
      new ApiError('RATE_LIMITED', 'Too many tool calls of this agent are running.', {}, { 'Retry-After': '1' }),
    );
  }
  try {
    // 5. Credentials become placeholders; unreadable vault → nothing runs.
    const environment = await toolEnvironment(ctx.vault, agent.workspaceId, compiled.artifact.envInjections);
    if (!environment.ok) return await refuse(ctx, row, tool.name, 'executor-unavailable', new ApiError('SERVICE_UNAVAILABLE'));
    // The compiler speaks in sandbox paths (/workspace); the local runner needs host paths:
    // each agent's own directories under RUNNER_WORKSPACE_ROOT, never the host path of the
    // same name (src/protocol/compiled-sandbox.ts).
    let bwrapArgv: string[] | undefined;
    if (config.config.kind === 'local') {
      const program = 'argv' in command ? command.argv : command.mcp.command;
      const agentRoot = `${config.config.workspaceRoot.replace(/\/+$/, '')}/${agent.id}`;
      const mapped = compiledSandbox(compiled.artifact, program, {
        workspace: `${agentRoot}/workspace`,
        privateRoot: `${agentRoot}/paths`,
      });
      if (!mapped.ok) return await refuse(ctx, row, tool.name, 'policy-compile', new ApiError('POLICY_DENIED'));
      bwrapArgv = mapped.value.sandbox.bwrapArgv;
    }
    const executor = createExecutor(config.config, {
      fetch: ctx.fetch,
      nowS: () => Math.floor(ctx.now() / 1000),
      reveal: async (name) => {
        const opened = await openSecret(ctx.vault, credentialRef(agent.workspaceId, name));
        return opened.ok ? opened.value : null;
      },
    });
    const outcome = await executor.run({
      workspaceId: agent.workspaceId,
      agentId: agent.id,
      tool: tool.name,
      policyHash: `${compiled.policy.provenance}:${tool.name}`,
      command,
      env: environment.env,
      credentials: environment.credentials,
      egress: { allow: compiled.artifact.egress.allow },
      ...(bwrapArgv ? { bwrapArgv } : {}),
      timeoutMs,
      outputLimitBytes: config.config.outputLimitBytes,
    });
    if (!outcome.ok) {
      console.error(
        JSON.stringify({
          event: 'tools.executor_failed',
          failure: outcome.failure.kind,
          executor: executor.kind,
          requestId: ctx.requestId,
        }),
      );
      const error =
        outcome.failure.kind === 'refused'
          ? new ApiError('POLICY_DENIED')
          : new ApiError('SERVICE_UNAVAILABLE', 'The tool executor is unavailable.');
      return await refuse(ctx, row, tool.name, outcome.failure.kind === 'refused' ? 'executor-refused' : 'executor-unavailable', error);
    }
    const result = outcome.result;
    // Results are redacted before they are stored or returned; if redaction cannot run, the text is dropped.
    const redactor = workspaceRedactor(ctx.vault, agent.workspaceId);
    const clean = async (text: string) => {
      const redacted = await redactor.redact(removePlaceholders(text, environment.credentials));
      return redacted.ok ? redacted.value : '';
    };
    const stored: StoredResult = {
      id: invocationId,
      status: statusOf(result),
      exitCode: result.exitCode,
      stdout: await clean(result.stdout),
      stderr: await clean(result.stderr),
      truncated: result.truncated,
      durationMs: result.durationMs,
    };
    await finish(ctx, invocationId, {
      status: stored.status,
      exitCode: stored.exitCode,
      stdout: stored.stdout,
      stderr: stored.stderr,
      truncated: stored.truncated,
      durationMs: stored.durationMs,
      stopReason: result.stopReason,
    });
    const at = ctx.now();
    for (const event of result.egressEvents) {
      await recordAudit(
        ctx.env,
        {
          workspaceId: agent.workspaceId,
          kind: 'tool.egress',
          actor: 'system',
          data: {
            agentId: agent.id,
            tool: tool.name,
            invocationId,
            host: event.host,
            port: event.port,
            allow: event.allow,
            rule: event.rule,
            reason: event.reason,
            swapped: [],
          },
        },
        at,
      );
    }
    await recordAudit(
      ctx.env,
      {
        workspaceId: agent.workspaceId,
        kind: 'tool.invoked',
        actor: 'system',
        data: {
          agentId: agent.id,
          tool: tool.name,
          invocationId,
          status: stored.status,
          exitCode: stored.exitCode,
          durationMs: stored.durationMs,
          stopReason: result.stopReason,
          executor: executor.kind,
          egressDropped: result.egressDropped,
        },
      },
      at,
    );
    await publishEvent(ctx.env, {
      type: 'invocation.finished',
      workspaceId: agent.workspaceId,
      at,
      data: {
        invocationId,
        agentId: agent.id,
        tool: tool.name,
        status: stored.status,
        exitCode: stored.exitCode,
        durationMs: stored.durationMs,
        stopReason: result.stopReason,
      },
    });
    return stored;
  } finally {
    await slots.release(invocationId);
  }
}

/** Marks a still-pending invocation as finally decided (denied or expired). */
export async function closePendingInvocation(db: Database, invocationId: string, status: 'denied' | 'expired', now: number): Promise<void> {
  await db
    .update(toolInvocations)
    .set({ status, finishedAt: now })
    .where(and(eq(toolInvocations.id, invocationId), eq(toolInvocations.status, 'pending_approval')));
}
