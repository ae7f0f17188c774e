/**
 * Tool execution configuration, read from the deployment's bindings only (never from a
 * request). Invalid or missing values are a tagged problem: the invocation is refused with
 * 503 and one log line naming the variable (fail closed), never run some other way.
 */
import { RUNNER_SECRET_MIN_LENGTH } from '../protocol';
import type { Env } from '../env';

export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
/** The runner refuses more than 10 minutes; a deployment may lower the ceiling. */
export const RUNNER_MAX_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_OUTPUT_LIMIT_BYTES = 64 * 1024;
export const DEFAULT_SANDBOX_SLEEP_AFTER = '5m';
/** TOOL_SANDBOX_SLEEP_AFTER bounds: a container idle longer than a day only holds capacity. */
const MIN_SLEEP_AFTER_S = 10;
const MAX_SLEEP_AFTER_S = 24 * 3600;
const SLEEP_UNIT_S = { s: 1, m: 60, h: 3600 } as const;

/**
 * TOOL_SANDBOX_SLEEP_AFTER in the one form @cloudflare/containers parses (`<n>s|m|h`; a bare
 * number throws inside the Container constructor, failing every call), between 10 s and 24 h;
 * unset → the default; anything else → null (refused by readToolConfig, rule 3).
 */
export function sandboxSleepAfter(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return DEFAULT_SANDBOX_SLEEP_AFTER;
  const match = /^(\d{1,6})([smh])$/.exec(raw);
  if (!match) return null;
  const seconds = Number(match[1]) * SLEEP_UNIT_S[match[2] as keyof typeof SLEEP_UNIT_S];
  return seconds >= MIN_SLEEP_AFTER_S && seconds <= MAX_SLEEP_AFTER_S ? raw : null;
}
/** How long a call waits in its agent's queue for a slot before 429 (TOOL_QUEUE_WAIT_MS; 0 = no queue). */
export const DEFAULT_QUEUE_WAIT_MS = 10_000;
const MAX_QUEUE_WAIT_MS = 60_000;

export type ToolConfig =
  | {
      kind: 'local';
      runnerUrl: URL;
      runnerSecret: string;
      workspaceRoot: string;
      maxTimeoutMs: number;
      outputLimitBytes: number;
      queueWaitMs: number;
    }
  | {
      kind: 'container';
      sandbox: NonNullable<Env['TOOL_SANDBOX']>;
      runnerSecret: string;
      maxTimeoutMs: number;
      outputLimitBytes: number;
      queueWaitMs: number;
    };

export type ToolConfigProblem =
  | { kind: 'executor-unset' }
  | { kind: 'executor-unknown' }
  | { kind: 'runner-url-invalid' }
  | { kind: 'runner-workspace-root-invalid' }
  | { kind: 'runner-secret-invalid' }
  | { kind: 'sandbox-binding-missing' }
  | { kind: 'limit-invalid'; variable: string };

export type ToolConfigResult = { ok: true; config: ToolConfig } | { ok: false; problem: ToolConfigProblem };

function boundedInt(raw: string | undefined, fallback: number, min: number, max: number): number | null {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) return null;
  const value = Number(raw);
  return value >= min && value <= max ? value : null;
}

/**
 * Precedence, first failure wins:
 * 1. TOOL_EXECUTOR unset → executor-unset;
 * 2. not exactly `container` or `local` → executor-unknown;
 * 3. TOOL_TIMEOUT_MAX_MS / TOOL_OUTPUT_LIMIT_BYTES / TOOL_QUEUE_WAIT_MS / TOOL_SANDBOX_SLEEP_AFTER
 *    malformed or out of range → limit-invalid;
 * 4. RUNNER_SECRET shorter than the runner accepts → runner-secret-invalid;
 * 5. local: RUNNER_URL not an absolute http(s) URL without credentials → runner-url-invalid;
 *    RUNNER_WORKSPACE_ROOT not an absolute path → runner-workspace-root-invalid;
 *    container: no TOOL_SANDBOX binding → sandbox-binding-missing;
 * 6. otherwise the configuration.
 */
export function readToolConfig(env: Env): ToolConfigResult {
  const executor = env.TOOL_EXECUTOR;
  if (executor === undefined || executor === '') return { ok: false, problem: { kind: 'executor-unset' } };
  if (executor !== 'container' && executor !== 'local') return { ok: false, problem: { kind: 'executor-unknown' } };
  const maxTimeoutMs = boundedInt(env.TOOL_TIMEOUT_MAX_MS, DEFAULT_TOOL_TIMEOUT_MS, 1, RUNNER_MAX_TIMEOUT_MS);
  if (maxTimeoutMs === null) return { ok: false, problem: { kind: 'limit-invalid', variable: 'TOOL_TIMEOUT_MAX_MS' } };
  const outputLimitBytes = boundedInt(env.TOOL_OUTPUT_LIMIT_BYTES, DEFAULT_OUTPUT_LIMIT_BYTES, 1, 16 * 1024 * 1024);
  if (outputLimitBytes === null) return { ok: false, problem: { kind: 'limit-invalid', variable: 'TOOL_OUTPUT_LIMIT_BYTES' } };
  const queueWaitMs = boundedInt(env.TOOL_QUEUE_WAIT_MS, DEFAULT_QUEUE_WAIT_MS, 0, MAX_QUEUE_WAIT_MS);
  if (queueWaitMs === null) return { ok: false, problem: { kind: 'limit-invalid', variable: 'TOOL_QUEUE_WAIT_MS' } };
  if (sandboxSleepAfter(env.TOOL_SANDBOX_SLEEP_AFTER) === null)
    return { ok: false, problem: { kind: 'limit-invalid', variable: 'TOOL_SANDBOX_SLEEP_AFTER' } };
  const runnerSecret = env.RUNNER_SECRET ?? '';
  if (runnerSecret.length < RUNNER_SECRET_MIN_LENGTH) return { ok: false, problem: { kind: 'runner-secret-invalid' } };
  if (executor === 'local') {
    let url: URL;
    try {
      url = new URL(env.RUNNER_URL ?? '');
    } catch {
      return { ok: false, problem: { kind: 'runner-url-invalid' } };
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '')
      return { ok: false, problem: { kind: 'runner-url-invalid' } };
    // Where the runner keeps per-agent directories: the gateway names bind sources under it.
    const workspaceRoot = env.RUNNER_WORKSPACE_ROOT ?? '';
    if (!workspaceRoot.startsWith('/') || workspaceRoot.split('/').includes('..'))
      return { ok: false, problem: { kind: 'runner-workspace-root-invalid' } };
    return {
      ok: true,
      config: { kind: 'local', runnerUrl: url, runnerSecret, workspaceRoot, maxTimeoutMs, outputLimitBytes, queueWaitMs },
    };
  }
  if (!env.TOOL_SANDBOX) return { ok: false, problem: { kind: 'sandbox-binding-missing' } };
  return { ok: true, config: { kind: 'container', sandbox: env.TOOL_SANDBOX, runnerSecret, maxTimeoutMs, outputLimitBytes, queueWaitMs } };
}

/** The one log line for a refused configuration (names the variable, never its value). */
export function logToolConfigProblem(problem: ToolConfigProblem, requestId: string): void {
  console.error(
    JSON.stringify({
      event: 'tools.executor_unavailable',
      problem: problem.kind,
      ...('variable' in problem ? { variable: problem.variable } : {}),
      requestId,
    }),
  );
}
