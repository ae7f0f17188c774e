import { z } from '@hono/zod-openapi';
import { ErrorEnvelope } from '../http';

/**
 * Responses every rate-limited route can give; spread into a route's `responses`
 * (`responses: { 200: …, ...rateLimitResponses }`).
 */
export const rateLimitResponses = {
  429: {
    description: 'RATE_LIMITED: over the limit for this route; retry after Retry-After seconds',
    headers: z.object({
      'Retry-After': z.string().openapi({ description: 'Whole seconds, 1..window (RFC 9110 §10.2.3)', example: '17' }),
      'RateLimit-Limit': z
        .string()
        .openapi({ description: 'Requests admitted per window by the tightest policy of this route', example: '60' }),
      'RateLimit-Remaining': z.string().openapi({ description: 'Requests left in the window', example: '0' }),
      'RateLimit-Reset': z
        .string()
        .openapi({ description: 'Whole seconds until the oldest counted request leaves the window', example: '17' }),
    }),
    content: { 'application/json': { schema: ErrorEnvelope } },
  },
  503: {
    description: 'SERVICE_UNAVAILABLE: the limiter of a fail-closed policy is down, or RATE_LIMITS is malformed',
    content: { 'application/json': { schema: ErrorEnvelope } },
  },
} as const;
