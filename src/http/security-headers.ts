import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

/**
 * Headers set on every response, errors and 404s included (docs/http.md).
 * The API serves JSON only, so the CSP forbids everything; dashboard pages set their own
 * policy on the request (src/dashboard/csp.ts: no script at all, styles from 'self').
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
    // A page (the dashboard, the OAuth consent page) sets its own (still script-free) policy on the request; nothing else can.
    // Pages also send `same-origin` referrers: under `no-referrer` browsers send `Origin: null`
    // on form posts (Fetch §3.1 "serializing a request origin"), which the CSRF check refuses;
    // no referrer still leaves for another origin.
    const pagePolicy = c.get('contentSecurityPolicy');
    if (pagePolicy) {
      c.res.headers.set('Content-Security-Policy', pagePolicy);
      c.res.headers.set('Referrer-Policy', 'same-origin');
    }
  };
}
