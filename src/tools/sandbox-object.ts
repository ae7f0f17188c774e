/**
 * ToolSandbox: the production executor. A Cloudflare Container running the runner
 * (containers/runner, RUNNER_ISOLATION=container) with no internet of its own; every HTTP(S)
 * request it makes is intercepted (interceptHttps) and decided by `toolEgressHandler` with the
 * policy compiled for the tool whose call is running (set per call with setOutboundHandler).
 * One instance per (workspace, agent, tool policy hash): see executor-container.ts.
 */
import { Container, type OutboundHandlerContext } from '@cloudflare/containers';
import { z } from 'zod';
import { recordAudit } from '../audit';
import type { Env } from '../env';
import { deriveInstanceSecret, importRunnerKey, signRunnerRequest } from '../protocol';
import { credentialRef, openSecret } from '../vault';
import { DEFAULT_SANDBOX_SLEEP_AFTER, sandboxSleepAfter } from './config';
import { dohResolver } from './doh-resolve';
import type { ToolRunOutcome, ToolRunRequest } from './executor';
import { runnerBody } from './executor-local';
import { decideOutbound, scrubOutboundResponse } from './outbound';
import { classifyContainerAnswer } from './executor-container-answer';
import { lostRunResult } from './runner-result';
import { operatorAllowFrom } from './operator-allow';

/** The runner's port inside the image (containers/runner/Dockerfile). */
export const RUNNER_PORT = 8080;
/**
 * How long past the call's own timeout the Worker waits: a cold start (image pull, boot, the
 * runner's port ready) comes first, and the runner needs a moment after the timeout to kill
 * and report. Past it the call is a lost one (executor-lost), never left hanging.
 */
export const CONTAINER_GRACE_MS = 30_000;

const EgressParams = z.strictObject({
  workspaceId: z.string().min(1),
  agentId: z.string().min(1),
  tool: z.string().min(1),
  allow: z.array(z.strictObject({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) })).max(256),
  credentials: z
    .array(z.strictObject({ name: z.string().min(1), placeholder: z.string().min(16), hosts: z.array(z.string().min(1).max(253)).max(64) }))
    .max(64),
});
export type EgressParams = z.infer<typeof EgressParams>;

/** What the container sees when a request is refused: no reason (that goes to the audit log). */
function refused(): Response {
  return new Response('Denied by policy.\n', { status: 403, headers: { 'content-type': 'text/plain' } });
}

/**
 * The outbound handler. Params come from the Durable Object (never from the container); a
 * malformed set is refused outright. Each decision is audited with host and port only.
 */
export async function toolEgressHandler(
  request: Request,
  env: Env,
  ctx: OutboundHandlerContext<EgressParams>,
  fetchFn: typeof fetch = fetch,
): Promise<Response> {
  const params = EgressParams.safeParse(ctx.params);
  if (!params.success) return refused();
  const { workspaceId, agentId, tool, allow, credentials } = params.data;
  const decision = await decideOutbound(
    request,
    { egress: { allow, operatorAllow: operatorAllowFrom(env.TOOL_OPERATOR_ALLOW), blockPrivate: true }, credentials },
    {
      resolve: dohResolver((url, init) => fetchFn(url, init)),
      reveal: async (name) => {
        const opened = await openSecret(env, credentialRef(workspaceId, name));
        return opened.ok ? opened.value : null;
      },
    },
  );
  await recordAudit(
    env,
    {
      workspaceId,
      kind: 'tool.egress',
      actor: 'system',
      data: {
        agentId,
        tool,
        invocationId: null,
        host: decision.host,
        port: decision.port,
        allow: decision.allow,
        rule: decision.rule,
        reason: decision.reason,
        swapped: decision.allow ? decision.swapped : [],
      },
    },
    Date.now(),
  );
  if (!decision.allow) return refused();
  // Redirects go back to the container, whose next request is decided again (never followed
  // here); the answer is scrubbed of every value bound to this host before the container sees it.
  return scrubOutboundResponse(await fetchFn(decision.forward, { redirect: 'manual' }), decision.scrub);
}

export class ToolSandbox extends Container<Env> {
  override defaultPort = RUNNER_PORT;
  override enableInternet = false;
  override interceptHttps = true;

  constructor(ctx: ConstructorParameters<typeof Container<Env>>[0], env: Env) {
    // Never the raw value: a malformed one would throw here and fail every call of the
    // instance; readToolConfig refuses such a deployment's calls (503) before they get here.
    super(ctx, env, { sleepAfter: sandboxSleepAfter(env.TOOL_SANDBOX_SLEEP_AFTER) ?? DEFAULT_SANDBOX_SLEEP_AFTER });
    // RUNNER_SECRET is set per instance in runTool, before the container starts (derivation is async).
    this.envVars = { RUNNER_ISOLATION: 'container', RUNNER_PORT: String(RUNNER_PORT), RUNNER_HOST: '0.0.0.0' };
  }

  /**
   * This instance's runner key (signing.ts deriveInstanceSecret): HKDF of the deployment's
   * RUNNER_SECRET and this Durable Object's id. The deployment secret never enters a container;
   * a key leaked from one container is worthless against any other.
   */
  private instanceSecret(): Promise<string> {
    return deriveInstanceSecret(this.env.RUNNER_SECRET ?? '', this.ctx.id.toString());
  }

  /** True from the first line of runTool to its end: one call per instance at a time. */
  private callInFlight = false;

  /**
   * Runs one call: installs this tool's egress policy, then a signed POST /invocations.
   * Precedence, first match wins:
   * 1. a call is already running on this instance → busy, checked and claimed synchronously
   *    before any await: the outbound handler's params are per instance, so a second call would
   *    replace the running call's policy mid-flight;
   * 2. the runner answers 401 → this container was started with a key derived from a
   *    RUNNER_SECRET that has since been rotated (the key is read at start only): destroy the
   *    container and send once more to a fresh one, which starts with the current key;
   * 3. otherwise the answer, classified by `classifyContainerAnswer`.
   * Whatever happens, the handler is then reset to deny-all, so nothing the container sends
   * between calls leaves with a finished call's policy or credentials.
   */
  async runTool(request: ToolRunRequest): Promise<ToolRunOutcome> {
    if (this.callInFlight) return { ok: false, failure: { kind: 'busy' } }; // 1
    this.callInFlight = true;
    const params: EgressParams = {
      workspaceId: request.workspaceId,
      agentId: request.agentId,
      tool: request.tool,
      allow: request.egress.allow,
      credentials: request.credentials,
    };
    try {
      await this.setOutboundHandler<EgressParams>('toolEgress', params);
      const first = await this.send(request);
      if (first.status !== 401) return first.outcome; // 3
      await this.destroy(); // 2
      return (await this.send(request)).outcome;
    } finally {
      try {
        await this.setOutboundHandler<EgressParams>('toolEgress', { ...params, allow: [], credentials: [] });
      } finally {
        this.callInFlight = false;
      }
    }
  }

  /** One signed POST /invocations, bounded by the call's timeout plus the start and transport grace. */
  private async send(request: ToolRunRequest): Promise<{ status: number; outcome: ToolRunOutcome }> {
    const secret = await this.instanceSecret();
    // Read by the container at start only (containerFetch starts it when it is not running;
    // a container that died is started afresh on the next call).
    this.envVars = { ...this.envVars, RUNNER_SECRET: secret };
    // The container gets placeholders only; swapping happens in the outbound handler.
    const body = await runnerBody({ ...request, credentials: [] }, async () => null, false);
    if (body === null) return { status: 0, outcome: { ok: false, failure: { kind: 'refused' } } };
    const text = JSON.stringify(body);
    const key = await importRunnerKey(secret);
    const signature = await signRunnerRequest(key, {
      method: 'POST',
      path: '/invocations',
      body: text,
      nowS: Math.floor(Date.now() / 1000),
    });
    const signal = AbortSignal.timeout(request.timeoutMs + CONTAINER_GRACE_MS);
    const sentAt = Date.now();
    let response: Response;
    try {
      response = await this.containerFetch(
        new Request('http://runner/invocations', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signature },
          body: text,
          signal,
        }),
        RUNNER_PORT,
      );
    } catch {
      return { status: 0, outcome: { ok: true, result: lostRunResult(Date.now() - sentAt) } };
    }
    return { status: response.status, outcome: await classifyContainerAnswer(response, signal.aborted, Date.now() - sentAt) };
  }
}

// Assigned, not declared as a static field: the base class registers handlers in its setter.
ToolSandbox.outboundHandlers = {
  toolEgress: (request, env, ctx) => toolEgressHandler(request, env as Env, ctx as OutboundHandlerContext<EgressParams>),
};
