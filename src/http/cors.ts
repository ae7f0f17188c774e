import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from './errors';

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
// The MCP headers let a browser-based MCP client on a configured origin use /mcp (docs/mcp.md).
const ALLOWED_HEADERS = 'Content-Type, Authorization, X-CSRF-Token, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID';
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * Parses ALLOWED_ORIGINS into exact origins. Entries are compared as serialised origins
 * (scheme://host[:port]), never by prefix or suffix, so `http://localhost.evil.example`
 * cannot pass for `http://localhost`.
 */
export function parseAllowedOrigins(raw: string | undefined): Set<string> {
  const key = raw ?? '';
  const cached = parsedOrigins.get(key);
  if (cached) return cached;
  const origins = new Set<string>();
  for (const entry of (raw ?? '').split(',')) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const url = URL.parse(trimmed);
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new Error(`ALLOWED_ORIGINS: "${trimmed}" is not an http(s) origin`);
    }
    origins.add(url.origin);
  }
  parsedOrigins.set(key, origins);
  return origins;
}

/** ALLOWED_ORIGINS is fixed per deployment; parse each distinct value once per isolate. */
const parsedOrigins = new Map<string, Set<string>>();

/** True when `origin` is the gateway's own origin or one the operator configured. */
export function isAllowedOrigin(origin: string, requestUrl: string, configured: Set<string>): boolean {
  if (origin === 'null') return false;
  return origin === new URL(requestUrl).origin || configured.has(origin);
}

/**
 * Same-origin CORS (docs/http.md): a foreign origin never receives Access-Control-Allow-Origin.
 * A cross-origin preflight is refused with 403 so the browser stops before the real request.
 */
export function cors(): MiddlewareHandler<AppEnv> {
  return async function corsMiddleware(c, next) {
    const origin = c.req.header('Origin');
    const allowed = origin !== undefined && isAllowedOrigin(origin, c.req.url, parseAllowedOrigins(c.env.ALLOWED_ORIGINS));
    const isPreflight = c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method') !== undefined;

    if (isPreflight) {
      if (!allowed) throw new ApiError('FORBIDDEN');
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Access-Control-Allow-Methods', ALLOWED_METHODS);
      c.header('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      c.header('Access-Control-Allow-Credentials', 'true');
      c.header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_S));
      c.header('Vary', 'Origin');
      return c.body(null, 204);
    }

    await next();
    c.res.headers.append('Vary', 'Origin');
    if (allowed) {
      c.res.headers.set('Access-Control-Allow-Origin', origin);
      c.res.headers.set('Access-Control-Allow-Credentials', 'true');
      c.res.headers.set(
        'Access-Control-Expose-Headers',
        'X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Mcp-Session-Id, WWW-Authenticate',
      );
    }
  };
}
