import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/**
 * Gives every request a fresh id, echoed as X-Request-Id on every response (errors
 * included) and quoted in error bodies and logs. A client-sent id is ignored: it would let
 * a caller forge correlation with someone else's request in the logs.
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const id = crypto.randomUUID();
    c.set('requestId', id);
    await next();
    c.res.headers.set('X-Request-Id', id);
  };
}
