/**
 * One invocation, end to end: validate the request shape, pick how it runs (isolation is the
 * runner's configuration, never the request's), run it, clean up.
 */
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { EgressRule } from '../../../src/policy/index.ts';
import { runProcess, type RunResult } from './execute.ts';
import { callMcpTool } from './mcp.ts';
import { egressEventLog, type EgressAuditEvent, type EgressDroppedEvent } from './egress-events.ts';
import { createEgressProxy, type EgressProxyOptions } from './proxy.ts';
import { createInterceptCa, type InterceptCa } from './tls-intercept.ts';
import { closeAll, type PinRefusal } from './bind-sources.ts';
import { containerToolCommand, containerToolEnv, killEveryProcessOf } from './container-tools.ts';
import { DEFAULT_PATH, buildSandboxedCommand, prepareSandbox, type PrefixProblem, type SandboxConfig } from './sandbox.ts';

export const MAX_TIMEOUT_MS = 10 * 60_000;
export const MAX_OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;

const egressRule = z.strictObject({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

export const invocationSchema = z
  .strictObject({
    tool: z.string().min(1).max(128),
    argv: z.array(z.string().max(65_536)).min(1).max(1024).optional(),
    mcp: z
      .strictObject({
        command: z.array(z.string()).min(1).max(1024),
        tool: z.string().min(1).max(256),
        arguments: z.record(z.string(), z.unknown()),
      })
      .optional(),
    env: z.record(envName, z.string().max(65_536)).default({}),
    stdin: z
      .string()
      .max(4 * 1024 * 1024)
      .default(''),
    timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS),
    outputLimitBytes: z.number().int().min(1).max(MAX_OUTPUT_LIMIT_BYTES),
    sandbox: z.strictObject({ bwrapArgv: z.array(z.string()).min(1).max(4096) }).optional(),
    // Compiled net:connect rules of this tool. operatorAllow is deliberately absent: private
    // destinations are opened only by the runner's own configuration (strictObject refuses it).
    egress: z.strictObject({ allow: z.array(egressRule).max(256) }).optional(),
    placeholders: z
      .array(
        z.strictObject({
          placeholder: z.string().min(16).max(256),
          value: z.string().max(65_536),
          hosts: z.array(z.string().min(1).max(253)).max(64),
          header: z
            .string()
            .regex(/^[A-Za-z0-9-]{1,64}$/)
            .optional(),
        }),
      )
      .max(64)
      .optional(),
  })
  .refine((v) => (v.argv === undefined) !== (v.mcp === undefined), { message: 'exactly one of argv and mcp', path: ['argv'] });

export type Invocation = z.infer<typeof invocationSchema>;

export interface RunnerConfig {
  /** 'bwrap': local executor, every call in bubblewrap; 'container': the container is the sandbox. */
  isolation: 'bwrap' | 'container';
  sandbox: SandboxConfig;
  /** Operator configuration only: private destinations this runner may reach. */
  operatorAllow: EgressRule[];
  /** Scratch directory for per-invocation egress sockets. */
  workDir: string;
  /** Working directory of tools when isolation is 'container'. */
  containerWorkdir?: string;
  resolve?: (host: string) => Promise<string[]>;
  /** Test harnesses only (never read from the environment): see EgressProxyOptions.dial. */
  dial?: EgressProxyOptions['dial'];
  /** Operator configuration: extra CAs (PEM) the proxy trusts for upstream TLS. */
  upstreamCa?: string[];
  killGraceMs?: number;
  audit: (event: EgressAuditEvent) => void;
}

export type InvocationResult = RunResult & { egressEvents: Array<EgressAuditEvent | EgressDroppedEvent> };
export type InvocationRefusal = {
  refused: 'sandbox-required' | 'sandbox-unavailable' | 'tool-uid-unavailable' | PrefixProblem | PinRefusal;
};

export async function runInvocation(
  inv: Invocation,
  config: RunnerConfig,
  abort?: AbortSignal,
): Promise<InvocationResult | InvocationRefusal> {
  // Clipped and capped (egress-events.ts): a tool must not be able to make the answer unparseable.
  const egressLog = egressEventLog();
  const command = inv.argv ?? inv.mcp?.command ?? [];
  const execute = (argv: string[], env: Record<string, string>, ids: { uid?: number; gid?: number; cwd?: string; fds?: number[] }) =>
    inv.mcp
      ? callMcpTool({
          argv,
          env,
          ...ids,
          timeoutMs: inv.timeoutMs,
          outputLimitBytes: inv.outputLimitBytes,
          killGraceMs: config.killGraceMs,
          abort,
          toolName: inv.mcp.tool,
          arguments: inv.mcp.arguments,
        })
      : runProcess({
          argv,
          env,
          ...ids,
          stdin: inv.stdin,
          timeoutMs: inv.timeoutMs,
          outputLimitBytes: inv.outputLimitBytes,
          killGraceMs: config.killGraceMs,
          abort,
        });

  if (config.isolation === 'container') {
    // In the container the outbound handler is the egress path; a bwrap request is a wiring error.
    if (inv.sandbox) return { refused: 'sandbox-unavailable' };
    const tool = containerToolCommand(command, config.sandbox);
    if (!tool) return { refused: 'tool-uid-unavailable' };
    try {
      const result = await execute(tool.argv, containerToolEnv(DEFAULT_PATH, inv.env), {
        cwd: config.containerWorkdir,
        uid: tool.uid,
        gid: tool.gid,
      });
      return { ...result, egressEvents: egressLog.events() };
    } finally {
      await killEveryProcessOf(tool.uid, tool.gid);
    }
  }

  // Local executor: no request runs outside bubblewrap (fail closed).
  if (!inv.sandbox) return { refused: 'sandbox-required' };
  const prepared = prepareSandbox(inv.sandbox.bwrapArgv, config.sandbox, [config.workDir]);
  if (!prepared.ok) return { refused: prepared.reason };

  let dir: string | null = null;
  let closeProxy = async () => {};
  try {
    let egressSocket: string | undefined;
    let caCertPath: string | undefined;
    if (inv.egress) {
      dir = mkdtempSync(join(config.workDir, 'inv-'));
      chmodSync(dir, 0o711); // the sandbox uid must reach the socket; it cannot list the directory
      egressSocket = join(dir, 'egress.sock');
      const audit = (event: EgressAuditEvent) => {
        config.audit(egressLog.record(event));
      };
      // Placeholders need TLS termination; without a CA the proxy refuses CONNECT (fail closed).
      let intercept: InterceptCa | undefined;
      if ((inv.placeholders ?? []).length > 0) intercept = await createInterceptCa(dir).catch(() => undefined);
      caCertPath = intercept?.certPath;
      const proxy = createEgressProxy({
        policy: { allow: inv.egress.allow, operatorAllow: config.operatorAllow, blockPrivate: true },
        placeholders: inv.placeholders,
        resolve: config.resolve,
        dial: config.dial,
        audit,
        intercept,
        upstreamCa: config.upstreamCa,
      });
      await new Promise<void>((resolve, reject) => proxy.listen(egressSocket, resolve).once('error', reject));
      // Only the sandbox uid may connect (when the runner is root and can hand it over).
      if (process.getuid?.() === 0) {
        chownSync(egressSocket, config.sandbox.uid, config.sandbox.gid);
        chmodSync(egressSocket, 0o600);
      } else {
        chmodSync(egressSocket, 0o666);
      }
      closeProxy = () =>
        new Promise((resolve) => {
          proxy.closeAllConnections();
          proxy.close(() => resolve());
        });
    }
    const sandboxed = buildSandboxedCommand({
      program: prepared.program,
      options: prepared.options,
      command,
      env: inv.env,
      egressSocket,
      caCertPath,
      config: config.sandbox,
    });
    const result = await execute(
      sandboxed.argv,
      { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      { uid: sandboxed.uid, gid: sandboxed.gid, fds: prepared.fds },
    );
    return { ...result, egressEvents: egressLog.events() };
  } finally {
    closeAll(prepared.fds);
    await closeProxy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
