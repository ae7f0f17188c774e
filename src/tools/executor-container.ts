/** Container executor: the call goes to the ToolSandbox instance of (workspace, agent, tool policy hash). */
import type { ToolConfig } from './config';
import type { ToolExecutor, ToolRunOutcome, ToolRunRequest } from './executor';

/** One instance per tool policy: a changed manifest gets a fresh container, never a reused one. */
export function sandboxInstanceName(request: Pick<ToolRunRequest, 'workspaceId' | 'agentId' | 'policyHash'>): string {
  return `${request.workspaceId}:${request.agentId}:${request.policyHash}`;
}

export function containerExecutor(config: Extract<ToolConfig, { kind: 'container' }>): ToolExecutor {
  return {
    kind: 'container',
    async run(request): Promise<ToolRunOutcome> {
      const stub = config.sandbox.get(config.sandbox.idFromName(sandboxInstanceName(request)));
      try {
        return (await stub.runTool(request)) as ToolRunOutcome;
      } catch (error) {
        console.error(JSON.stringify({ event: 'tools.sandbox_error', message: (error as Error).message }));
        return { ok: false, failure: { kind: 'unreachable' } };
      }
    },
  };
}
