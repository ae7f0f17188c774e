/**
 * Local executor: the runner on the host (docs/sandbox.md), one signed POST /invocations per
 * call. The request always carries the bwrap prefix compiled for this tool; the runner
 * refuses any call without one, so nothing runs unsandboxed even if this side were wrong.
 */
import { importRunnerKey, signRunnerRequest } from '../protocol';
import type { ToolConfig } from './config';
import type { ExecutorDeps, ToolExecutor, ToolRunOutcome, ToolRunRequest } from './executor';
import { lostRunResult, parseRunnerAnswer } from './runner-result';

/** The runner's own limit plus transit: the runner answers a timeout itself well before this. */
const TRANSPORT_GRACE_MS = 15_000;

/** The runner's request body (containers/runner/src/invocation.ts `invocationSchema`). */
export async function runnerBody(
  request: ToolRunRequest,
  reveal: ExecutorDeps['reveal'],
  withSandbox: boolean,
): Promise<Record<string, unknown> | null> {
  const placeholders: Array<{ placeholder: string; value: string; hosts: string[] }> = [];
  for (const binding of request.credentials) {
    const value = await reveal(binding.name);
    if (value === null) return null;
    placeholders.push({ placeholder: binding.placeholder, value, hosts: binding.hosts });
  }
  return {
    tool: request.tool,
    ...('argv' in request.command ? { argv: request.command.argv } : { mcp: request.command.mcp }),
    env: request.env,
    timeoutMs: request.timeoutMs,
    outputLimitBytes: request.outputLimitBytes,
    ...(withSandbox && request.bwrapArgv ? { sandbox: { bwrapArgv: request.bwrapArgv } } : {}),
    ...(request.egress.allow.length > 0 ? { egress: { allow: request.egress.allow } } : {}),
    ...(placeholders.length > 0 ? { placeholders } : {}),
  };
}

export function localExecutor(config: Extract<ToolConfig, { kind: 'local' }>, deps: ExecutorDeps): ToolExecutor {
  return {
    kind: 'local',
    async run(request): Promise<ToolRunOutcome> {
      // Fail closed: the local executor never sends a call without its sandbox.
      if (!request.bwrapArgv || request.bwrapArgv[0] !== 'bwrap') return { ok: false, failure: { kind: 'refused' } };
      const body = await runnerBody(request, deps.reveal, true);
      if (body === null) return { ok: false, failure: { kind: 'refused' } };
      const url = new URL('/invocations', config.runnerUrl);
      const text = JSON.stringify(body);
      const key = await importRunnerKey(config.runnerSecret);
      const signature = await signRunnerRequest(key, { method: 'POST', path: url.pathname, body: text, nowS: deps.nowS() });
      let response: Response;
      const sentAt = Date.now();
      try {
        response = await deps.fetch(url.toString(), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signature },
          body: text,
          signal: AbortSignal.timeout(request.timeoutMs + TRANSPORT_GRACE_MS),
        });
      } catch {
        // The connection failed or dropped, or no answer came in time: the gateway cannot tell
        // a runner that never got the call from one that died running it, so the call is a
        // failed one (executor-lost), never a refusal; the caller gets its id.
        return { ok: true, result: lostRunResult(Date.now() - sentAt) };
      }
      if (response.status === 403) return { ok: false, failure: { kind: 'refused' } };
      if (response.status === 409) return { ok: false, failure: { kind: 'busy' } };
      if (response.status !== 200) return { ok: false, failure: { kind: 'bad-response' } };
      const result = parseRunnerAnswer(await response.json().catch(() => null));
      return result ? { ok: true, result } : { ok: false, failure: { kind: 'bad-response' } };
    },
  };
}
