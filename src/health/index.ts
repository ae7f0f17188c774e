import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from '../http';
import { rateLimitResponses } from '../ratelimit';

const Health = z.object({ status: z.literal('ok') }).openapi('Health');

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness check',
  responses: { 200: { description: 'The gateway is serving', content: { 'application/json': { schema: Health } } }, ...rateLimitResponses },
});

/** GET /healthz: liveness only; it touches no binding, so it stays cheap and always up. */
export function healthRoutes() {
  return createRouter().openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));
}
