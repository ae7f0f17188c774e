import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../http';
import { authenticate, principalOf, requireScope } from './authenticate';
import type { Scope } from './scopes';

/**
 * Who may call a route, declared once with the route. Both the middleware that enforces it
 * and the OpenAPI `security` of the operation are derived from this one value, so the
 * document cannot say "public" about a route that is protected, or the other way round.
 */
export type Access =
  | { auth: 'public' }
  | {
      auth: 'session-or-key';
      /** Every listed scope is needed (an empty list: any signed-in caller). */
      scopes: readonly Scope[];
    }
  | {
      auth: 'session-or-key';
      /** Any one of these scopes is enough. */
      anyScope: readonly [Scope, ...Scope[]];
    };

export const PUBLIC: Access = { auth: 'public' };

/** Any signed-in caller holding every scope listed (none listed: any signed-in caller). */
export function signedIn(...scopes: Scope[]): Access {
  return { auth: 'session-or-key', scopes };
}

/** Any signed-in caller holding at least one of the scopes. */
export function signedInWithAnyOf(...anyScope: [Scope, ...Scope[]]): Access {
  return { auth: 'session-or-key', anyScope };
}

/** 403 FORBIDDEN unless the caller holds at least one of the scopes. */
function requireAnyScope(scopes: readonly Scope[]): MiddlewareHandler<AppEnv> {
  return async function requireAnyScopeMiddleware(c, next) {
    const principal = principalOf(c);
    if (!scopes.some((scope) => principal.scopes.has(scope))) throw new ApiError('FORBIDDEN');
    await next();
  };
}

/**
 * A route's access check, in order (docs/auth.md "Route access" has the same numbers):
 * 1. public → no credential is read, the handler decides;
 * 2. no valid session or API key → 401 UNAUTHENTICATED (authenticate.ts, before any body is validated);
 * 3. a required scope missing → 403 FORBIDDEN;
 * 4. the handler's own rules (e.g. session-only routes, approvals rule 1).
 */
function middlewareOf(access: Access): MiddlewareHandler<AppEnv>[] {
  // 1.
  if (access.auth === 'public') return [];
  // 2.–3. (authenticate reads the app's clock from the request: http/request-clock.ts)
  if ('anyScope' in access) return [authenticate(), requireAnyScope(access.anyScope)];
  return access.scopes.length ? [authenticate(), requireScope(...access.scopes)] : [authenticate()];
}

/**
 * OpenAPI 3.1 security requirements: an API key or the session cookie; the required scopes
 * are listed as role names (OpenAPI 3.1 §4.8.30 allows them for non-OAuth schemes). A choice
 * of scopes becomes one requirement per scope and scheme (the requirements are alternatives).
 */
function securityOf(access: Access): Array<Record<string, string[]>> {
  if (access.auth === 'public') return [];
  if ('anyScope' in access)
    return access.anyScope.flatMap((scope): Array<Record<string, string[]>> => [{ apiKey: [scope] }, { session: [scope] }]);
  return [{ apiKey: [...access.scopes] }, { session: [...access.scopes] }];
}

type DeclaredRoute = Omit<RouteConfig, 'path' | 'security' | 'middleware' | 'operationId'> & {
  /** Stable, camelCase, unique: generated clients name their methods after it. */
  operationId: string;
  /** The route's own middleware; it runs after the access check, never before it. */
  middleware?: MiddlewareHandler<AppEnv>[];
};

/**
 * createRoute with its access declared: `secured({ method, path, operationId, … }, signedIn('agents:read'))`.
 * The route then carries its own authentication wherever its router is mounted.
 */
export function secured<P extends string, R extends DeclaredRoute & { path: P }>(config: R, access: Access) {
  return createRoute({ ...config, security: securityOf(access), middleware: [...middlewareOf(access), ...(config.middleware ?? [])] });
}
