import { createRoute, z } from '@hono/zod-openapi';
import { unrestrictedAllowed, UNRESTRICTED_FLAG } from '../agents';
import { createRouter } from '../http';
import { rateLimitResponses } from '../ratelimit';
import { readinessRoutes } from './readiness';

const Health = z
  .object({
    status: z.literal('ok'),
    dangerous: z.array(z.string()).optional().openapi({ description: 'Dangerous settings this deployment has switched on.' }),
  })
  .openapi('Health');

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  security: [],
  summary: 'Liveness check; also names any dangerous setting in force',
  responses: { 200: { description: 'The gateway is serving', content: { 'application/json': { schema: Health } } }, ...rateLimitResponses },
});

export { READY_PROBE_TIMEOUT_MS } from './readiness';

/**
 * GET /healthz: liveness only; it touches no storage, so it stays cheap and always up.
 * GET /readyz beside it (readiness.ts): whether tool execution is available.
 */
export function healthRoutes(deps: { fetch: typeof fetch } = { fetch: (input, init) => fetch(input, init) }) {
  return createRouter()
    .route('/', readinessRoutes(deps))
    .openapi(healthRoute, (c) => {
      const dangerous = unrestrictedAllowed(c.env) ? [UNRESTRICTED_FLAG] : [];
      return c.json(dangerous.length ? { status: 'ok' as const, dangerous } : { status: 'ok' as const }, 200);
    });
}
