import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/**
 * Headers set on every response, errors and 404s included (docs/http.md).
 * The API serves JSON only, so the CSP forbids everything; a page would need its own
 * policy without 'unsafe-inline' scripts.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // RFC 6797: two years, subdomains too. Browsers ignore it over plain http (wrangler dev).
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy':
    'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()',
  // Responses carry per-caller data; no shared cache may keep them.
  'Cache-Control': 'no-store',
};

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
    // A page (src/mcp/oauth/consent.ts) replaces only the CSP, with one that is still strict (no inline script).
    const pageCsp = c.get('pageCsp');
    if (pageCsp) c.res.headers.set('Content-Security-Policy', pageCsp);
  };
}
