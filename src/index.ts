import { healthRoutes } from './health';
import {
  clientIp,
  cors,
  createRouter,
  handleError,
  jsonBody,
  notFoundOrMethodNotAllowed,
  requestId,
  securityHeaders,
} from './http';
import { rateLimit } from './ratelimit';

/**
 * The Worker: wires the capability folders together and nothing else.
 * Order matters: request id and security headers wrap everything (errors included),
 * CORS refuses foreign preflights before any route runs, and the JSON body guard runs
 * before any handler reads a body. Rate limiting comes right after the client IP is known
 * and before the body guard, so a flood is refused before any body is read or any
 * signature, password or D1 lookup runs.
 */
const app = createRouter();

app.use('*', requestId(), securityHeaders(), cors(), clientIp(), rateLimit());
app.use('/api/*', jsonBody());

app.route('/', healthRoutes());

app.doc31('/api/v1/openapi.json', {
  openapi: '3.1.0',
  info: {
    title: 'Portcullis',
    version: '0.1.0',
    description: 'Security gateway for AI agents. Errors use the envelope {"error":{"code","message","requestId"}}.',
  },
});

app.onError(handleError);
app.notFound(notFoundOrMethodNotAllowed(app));

export default app;

// Durable Object classes must be exported by the Worker's main module.
export { AuditLog } from './audit';
export { RateLimiter } from './ratelimit';
