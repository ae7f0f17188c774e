import { z } from '@hono/zod-openapi';

/** The error envelope every route may answer with (docs/http.md). */
export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'NOT_FOUND' }),
      message: z.string(),
      requestId: z.string(),
      fields: z.array(z.string()).optional().openapi({ description: 'Field paths for VALIDATION_ERROR; never values.' }),
    }),
  })
  .openapi('Error');

export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: 'Error', content: { 'application/json': { schema: ErrorEnvelope } } }]),
  );
}

/** `content` for a JSON request or response body with this schema. */
export function jsonContent<T>(schema: T) {
  return { content: { 'application/json': { schema } } };
}

/** A required JSON request body. */
export function jsonBodyOf<T>(schema: T) {
  return { body: { required: true, ...jsonContent(schema) } };
}
