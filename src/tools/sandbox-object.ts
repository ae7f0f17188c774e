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
import { DEFAULT_SANDBOX_SLEEP_AFTER } from './config';
import { dohResolver } from './doh-resolve';
import type { ToolRunOutcome, ToolRunRequest } from './executor';
import { runnerBody } from './executor-local';
import { decideOutbound, scrubOutboundResponse } from './outbound';
import { parseRunnerAnswer } from './runner-result';
import { operatorAllowFrom } from './operator-allow';

/** The runner's port inside the image (containers/runner/Dockerfile). */
export const RUNNER_PORT = 8080;

const EgressParams = z.strictObject({
  workspaceId: z.string().min(1),
  agentId: z.string().min(1),
  tool: z.string().min(1),
  allow: z.array(z.strictObject({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65535) })).max(256),
  credentials: z.array(z.strictObject({ name: z.string().min(1), placeholder: z.string().min(16), hosts: z.array(z.string().min(1).max(253)).max(64) })).max(64),
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
export async function toolEgressHandler(request: Request, env: Env, ctx: OutboundHandlerContext<EgressParams>, fetchFn: typeof fetch = fetch): Promise<Response> {
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
      data: { agentId, tool, invocationId: null, host: decision.host, port: decision.port, allow: decision.allow, rule: decision.rule, reason: decision.reason, swapped: decision.allow ? decision.swapped : [] },
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
    super(ctx, env, { sleepAfter: env.TOOL_SANDBOX_SLEEP_AFTER || DEFAULT_SANDBOX_SLEEP_AFTER });
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

  /** Runs one call: installs this tool's egress policy, then a signed POST /invocations. */
  async runTool(request: ToolRunRequest): Promise<ToolRunOutcome> {
    const secret = await this.instanceSecret();
    // Read by the container at start only (containerFetch starts it when it is not running).
    this.envVars = { ...this.envVars, RUNNER_SECRET: secret };
    const params: EgressParams = {
      workspaceId: request.workspaceId,
      agentId: request.agentId,
      tool: request.tool,
      allow: request.egress.allow,
      credentials: request.credentials,
    };
    await this.setOutboundHandler<EgressParams>('toolEgress', params);
    // The container gets placeholders only; swapping happens in the outbound handler.
    const body = await runnerBody({ ...request, credentials: [] }, async () => null, false);
    if (body === null) return { ok: false, failure: { kind: 'refused' } };
    const text = JSON.stringify(body);
    const key = await importRunnerKey(secret);
    const signature = await signRunnerRequest(key, { method: 'POST', path: '/invocations', body: text, nowS: Math.floor(Date.now() / 1000) });
    const response = await this.containerFetch(new Request('http://runner/invocations', { method: 'POST', headers: { 'content-type': 'application/json', ...signature }, body: text }), RUNNER_PORT);
    if (response.status === 403) return { ok: false, failure: { kind: 'refused' } };
    if (response.status === 409) return { ok: false, failure: { kind: 'busy' } };
    if (response.status !== 200) return { ok: false, failure: { kind: 'bad-response' } };
    const result = parseRunnerAnswer(await response.json().catch(() => null));
    return result ? { ok: true, result } : { ok: false, failure: { kind: 'bad-response' } };
  }
}

// Assigned, not declared as a static field: the base class registers handlers in its setter.
ToolSandbox.outboundHandlers = { toolEgress: (request, env, ctx) => toolEgressHandler(request, env as Env, ctx as OutboundHandlerContext<EgressParams>) };
