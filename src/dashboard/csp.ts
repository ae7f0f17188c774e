import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';

import { LIVE_UPDATES_SHA256, PAGE_CSP } from './page-csp';

export { LIVE_UPDATES_SHA256, PAGE_CSP };

/** Marks the response as a page: http/security-headers.ts then sends PAGE_CSP instead of the API's policy. */
export function pagePolicy(): MiddlewareHandler<AppEnv> {
  return async function pagePolicyMiddleware(c, next) {
    c.set('contentSecurityPolicy', PAGE_CSP);
    await next();
  };
}
