import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import { authenticate, principalOf, SESSION_COOKIE_NAME, sessionFormToken, type Principal, type Scope } from '../auth';
import type { AppEnv } from '../env';
import { ApiError, isAllowedOrigin, parseAllowedOrigins } from '../http';

/**
 * How the dashboard's HTML forms meet the identity layer's CSRF scheme (docs/dashboard.md):
 * - each page puts the session's form token in its forms as the hidden field `_csrf`. The
 *   token is derived from the session cookie (sessionFormToken, src/auth/form-token.ts), so it
 *   exists for every live session, also one opened by POST /api/v1/auth/login, and no second
 *   cookie is needed; a script on another origin can read neither the cookie nor the page;
 * - a form post is authenticated by authenticate() exactly as an API call is, with the proof
 *   read from that field instead of the X-CSRF-Token header: constant time, Origin (when sent)
 *   the gateway's own. The API's header check is untouched: a form field never satisfies an
 *   API route, and the API's CSRF token never satisfies a form.
 */
export const CSRF_FIELD = '_csrf';
/** Largest form body a page accepts (a pasted manifest is the largest). */
export const MAX_FORM_BYTES = 256 * 1024;

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE_NAME, { path: '/', secure: true, prefix: 'host' });
}

/** The token to render into this page's forms ('' without a session cookie: every post then fails the check). */
export function csrfTokenOf(c: Context<AppEnv>): string {
  const session = getCookie(c, SESSION_COOKIE_NAME, 'host');
  return session ? sessionFormToken(session) : '';
}

/** The parsed urlencoded form of a post (cached by Hono, so the CSRF check and the handler read one body). */
export async function formOf(c: Context<AppEnv>): Promise<Record<string, string>> {
  const body = await c.req.parseBody({ all: false });
  return Object.fromEntries(Object.entries(body).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])));
}

/** All values of a repeated field (checkboxes). */
export async function formValues(c: Context<AppEnv>, name: string): Promise<string[]> {
  const body = await c.req.parseBody({ all: true });
  const value = body[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((v): v is string => typeof v === 'string');
}

const formCsrfToken = async (c: Context<AppEnv>) => (await formOf(c))[CSRF_FIELD];

/**
 * Form posts, before anything else reads them, in order:
 * 1. a body other than application/x-www-form-urlencoded → 415 (no multipart, no JSON);
 * 2. a body over MAX_FORM_BYTES → 413;
 * 3. an Origin (browsers send one on every form post) that is not the gateway's own or a
 *    configured one → 403 CSRF_FAILED, also on the public forms (sign-in, setup), which
 *    stops login CSRF.
 */
export function formPost(): MiddlewareHandler<AppEnv> {
  return async function formPostMiddleware(c, next) {
    if (c.req.method !== 'POST') return next();
    const type = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send an HTML form.');
    const length = Number(c.req.header('Content-Length') ?? '0');
    if (!Number.isFinite(length) || length > MAX_FORM_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE');
    const raw = await c.req.raw.clone().arrayBuffer();
    if (raw.byteLength > MAX_FORM_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE');
    const origin = c.req.header('Origin');
    if (origin !== undefined && !isAllowedOrigin(origin, c.req.url, parseAllowedOrigins(c.env.ALLOWED_ORIGINS)))
      throw new ApiError('CSRF_FAILED');
    await next();
  };
}

export type PageAccess = { scopes?: Scope[]; anyScope?: Scope[] };

/**
 * A signed-in page, in order (the same as secured.ts, with pages' answers):
 * 1. no valid session → 303 to /sign-in (a CSRF failure on a post → 403 CSRF_FAILED);
 * 2. a scope the page needs missing → 403 page;
 * 3. the page's handler, whose domain function applies its own rules.
 */
export function signedInPage(access: PageAccess = {}): MiddlewareHandler<AppEnv> {
  const check = authenticate({ csrf: { kind: 'form', field: formCsrfToken } });
  return async function signedInPageMiddleware(c, next) {
    let authenticated = false;
    try {
      await check(c, async () => {
        authenticated = true;
      });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') return c.redirect('/sign-in', 303);
      throw error;
    }
    if (!authenticated) return c.redirect('/sign-in', 303);
    const principal = principalOf(c);
    const missing = (access.scopes ?? []).some((scope) => !principal.scopes.has(scope));
    const noneOf = access.anyScope !== undefined && !access.anyScope.some((scope) => principal.scopes.has(scope));
    if (missing || noneOf) throw new ApiError('FORBIDDEN');
    await next();
  };
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope);
}
