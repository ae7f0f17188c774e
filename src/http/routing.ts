import type { Context, Hono } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from './errors';

interface RouteShape {
  pattern: RegExp;
  method: string;
}

/** Turns a Hono path (`/agents/:id`, `:id{[0-9]+}`, `*`) into an anchored RegExp. */
function pathToRegExp(path: string): RegExp {
  let source = '';
  for (const segment of path.split('/').filter(Boolean)) {
    if (segment === '*') {
      source += '(?:/.*)?';
      continue;
    }
    const param = /^:[A-Za-z0-9_]+(?:\{(.+)\})?\??$/.exec(segment);
    source += '/' + (param ? `(?:${param[1] ?? '[^/]+'})` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
  return new RegExp(`^${source || '/'}$`);
}

/**
 * notFound handler that tells "no such path" (404) from "path exists, method does not"
 * (405 with an Allow header, RFC 9110 §15.5.6). Middleware registrations (method ALL) do
 * not count as routes.
 */
export function notFoundOrMethodNotAllowed(app: Hono<AppEnv>) {
  let routes: RouteShape[] | undefined;
  return function notFound(c: Context<AppEnv>): Response {
    routes ??= app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({ pattern: pathToRegExp(route.path), method: route.method }));
    const allowed = new Set(routes.filter((route) => route.pattern.test(c.req.path)).map((route) => route.method));
    if (allowed.size === 0) throw new ApiError('NOT_FOUND');
    if (allowed.has('GET')) allowed.add('HEAD');
    throw new ApiError('METHOD_NOT_ALLOWED', undefined, {}, { Allow: [...allowed].sort().join(', ') });
  };
}
