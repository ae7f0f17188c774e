/**
 * GET /readyz: whether this deployment can run tool calls now, without detail (which variable
 * is wrong, where the runner is, why it failed: that goes to the log, never to the caller).
 * Precedence, first match wins:
 * 1. tool execution not configured or misconfigured (readToolConfig refuses) → 503 unavailable;
 * 2. `container` → ready: a ToolSandbox starts its container on the call that needs it, so
 *    there is nothing to probe without starting one (and paying for it);
 * 3. `local` → the runner's unsigned /healthz answers 200 within READY_PROBE_TIMEOUT_MS → ready;
 * 4. otherwise → 503 unavailable.
 * /healthz stays liveness only: it touches nothing and is always up.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../http';
import { rateLimitResponses } from '../ratelimit';
import { readToolConfig } from '../tools';

/** A runner that takes longer than this to answer its health check is not ready. */
export const READY_PROBE_TIMEOUT_MS = 2_000;

const Readiness = z.object({ status: z.enum(['ready', 'unavailable']) }).openapi('Readiness');

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  security: [],
  summary: 'Readiness: whether tool execution is available now (no detail)',
  responses: {
    ...rateLimitResponses,
    200: { description: 'Tool calls can run', content: { 'application/json': { schema: Readiness } } },
    503: {
      description: 'Tool calls cannot run now (or RATE_LIMITS is malformed: every request fails closed)',
      content: { 'application/json': { schema: Readiness } },
    },
  },
});

export function readinessRoutes(deps: { fetch: typeof fetch }) {
  return createRouter().openapi(readyRoute, async (c) => {
    const unavailable = () => c.json({ status: 'unavailable' as const }, 503);
    const config = readToolConfig(c.env);
    if (!config.ok) return unavailable(); // 1
    if (config.config.kind === 'container') return c.json({ status: 'ready' as const }, 200); // 2
    try {
      const res = await deps.fetch(new URL('/healthz', config.config.runnerUrl).toString(), {
        signal: AbortSignal.timeout(READY_PROBE_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (res.status === 200) return c.json({ status: 'ready' as const }, 200); // 3
    } catch {
      // unreachable or too slow: not ready
    }
    return unavailable(); // 4
  });
}
