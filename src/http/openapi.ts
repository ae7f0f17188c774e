import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import type { AppEnv } from '../env';
import { ApiError } from './errors';

/**
 * Field paths of a zod failure, e.g. `tools.0.capabilities.2`. Only the paths: zod's
 * messages can quote the received value or the schema, and neither may reach a client.
 */
export function fieldPaths(error: ZodError): string[] {
  const paths = error.issues.map((issue) => (issue.path.length ? issue.path.join('.') : '(root)'));
  return [...new Set(paths)].slice(0, 20);
}

/**
 * Every router is an OpenAPIHono whose validation failures become VALIDATION_ERROR, so the
 * schemas that validate a route are also the ones /api/v1/openapi.json publishes.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new ApiError('VALIDATION_ERROR', undefined, { fields: fieldPaths(result.error) });
    },
  });
}
