/**
 * The executor boundary: one interface, two implementations chosen by the deployment's
 * configuration (TOOL_EXECUTOR), never by anything in a request.
 *   local      signed HTTP POST to the runner at RUNNER_URL, every call under bubblewrap
 *   container  the ToolSandbox Container, one instance per (workspace, agent, policy hash)
 */
import type { EgressRule } from '../policy';
import type { ToolConfig } from './config';
import { containerExecutor } from './executor-container';
import { localExecutor } from './executor-local';
import type { ToolRunResult } from './runner-result';

/** A credential bound to hosts: the tool sees `placeholder`; only the egress path knows the value. */
export interface CredentialBinding {
  name: string;
  placeholder: string;
  hosts: string[];
}

export type ToolCommand = { argv: string[] } | { mcp: { command: string[]; tool: string; arguments: Record<string, unknown> } };

export interface ToolRunRequest {
  workspaceId: string;
  agentId: string;
  tool: string;
  /** `sha256:` of the tool's compiled policy: names the sandbox instance. */
  policyHash: string;
  command: ToolCommand;
  /** What the tool's environment holds: placeholders for host-bound credentials, never their values. */
  env: Record<string, string>;
  credentials: CredentialBinding[];
  egress: { allow: EgressRule[] };
  /** The bwrap target's argv prefix for this tool (local executor only). */
  bwrapArgv?: string[];
  timeoutMs: number;
  outputLimitBytes: number;
}

export type { EgressEvent, ToolRunResult } from './runner-result';

/**
 * Why nothing ran (or nothing usable came back); detail goes to the log and audit only. A runner
 * lost after the call was sent is not a failure here: it is a failed call (`executor-lost`,
 * runner-result.ts). `start-failed`: the container could not be started; `no-capacity`: no
 * instance available (max_instances reached, or still provisioning); `unauthenticated`: the
 * runner refused the signature even after a fresh start (sandbox-object.ts).
 */
export type ExecutorFailure =
  | { kind: 'refused' }
  | { kind: 'busy' }
  | { kind: 'unreachable' }
  | { kind: 'bad-response' }
  | { kind: 'start-failed' }
  | { kind: 'no-capacity' }
  | { kind: 'unauthenticated' };

export type ToolRunOutcome = { ok: true; result: ToolRunResult } | { ok: false; failure: ExecutorFailure };

export interface ToolExecutor {
  readonly kind: 'local' | 'container';
  run(request: ToolRunRequest): Promise<ToolRunOutcome>;
}

export interface ExecutorDeps {
  /** Outbound fetch to the runner (local executor); tests inject a signature-checking stub. */
  fetch: typeof fetch;
  /** Opens a workspace credential by name (the local runner swaps placeholders itself). */
  reveal(name: string): Promise<string | null>;
  nowS(): number;
}

export function createExecutor(config: ToolConfig, deps: ExecutorDeps): ToolExecutor {
  return config.kind === 'local' ? localExecutor(config, deps) : containerExecutor(config);
}
