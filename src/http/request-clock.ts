import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/** Milliseconds since the epoch. */
export type RequestClock = () => number;

/**
 * Puts the app's clock on the request, so middleware declared with a route (at module load,
 * before any clock exists) reads the same injected time as the handlers: tests move time to
 * cross session and key expiry windows through the real HTTP surface.
 */
export function requestClock(now: RequestClock): MiddlewareHandler<AppEnv> {
  return async function requestClockMiddleware(c, next) {
    c.set('now', now);
    await next();
  };
}

/** The request's clock; a router mounted without the app's middleware reads real time. */
export function clockOf(c: Context<AppEnv>): RequestClock {
  return c.get('now') ?? Date.now;
}
