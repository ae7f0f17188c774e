import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/** Used as the rate-limit key when the edge did not say who the client is. */
export const UNKNOWN_CLIENT_IP = 'unknown';

/**
 * The client IP is CF-Connecting-IP, set by Cloudflare's edge (or, when self-hosted, by
 * the proxy in front, as docs/deploy.md requires). X-Forwarded-For, X-Real-IP, Forwarded
 * and True-Client-IP are never read: any client can send them.
 */
export function clientIpOf(c: Context<AppEnv>): string {
  const ip = c.req.header('CF-Connecting-IP')?.trim();
  return ip && ip.length <= 64 ? ip : UNKNOWN_CLIENT_IP;
}

export function clientIp(): MiddlewareHandler<AppEnv> {
  return async function clientIpMiddleware(c, next) {
    c.set('clientIp', clientIpOf(c));
    await next();
  };
}
