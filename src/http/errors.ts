import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../env';

/**
 * The one table of wire errors (docs/http.md). Internal failures are tagged
 * values elsewhere; they become one of these codes and nothing more specific.
 */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  URL_NOT_ALLOWED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  CSRF_FAILED: 403,
  POLICY_DENIED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Fixed, generic messages: a client never sees an internal reason. */
const DEFAULT_MESSAGE: Record<ErrorCode, string> = {
  VALIDATION_ERROR: 'The request is not valid.',
  URL_NOT_ALLOWED: 'That URL is not allowed.',
  UNAUTHENTICATED: 'Authentication is required.',
  INVALID_CREDENTIALS: 'Invalid credentials.',
  FORBIDDEN: 'You do not have permission to do that.',
  CSRF_FAILED: 'CSRF check failed.',
  POLICY_DENIED: 'Denied by policy.',
  NOT_FOUND: 'Not found.',
  METHOD_NOT_ALLOWED: 'Method not allowed.',
  CONFLICT: 'Conflict.',
  PAYLOAD_TOO_LARGE: 'The request body is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type; send application/json.',
  RATE_LIMITED: 'Too many requests.',
  INTERNAL: 'Internal error.',
  SERVICE_UNAVAILABLE: 'Service unavailable.',
};

export interface ErrorDetails {
  /** Field paths for VALIDATION_ERROR, never the offending values. */
  fields?: string[];
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGE[code],
    readonly details: ErrorDetails = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details: ErrorDetails = {}) {
  return { error: { code, message, requestId, ...details } };
}

export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(errorBody(error.code, error.message, c.get('requestId') ?? '', error.details), error.status);
}

/** Hono's own exceptions carry a status only; map the ones it raises to our codes. */
function fromHttpException(exception: HTTPException): ApiError {
  switch (exception.status) {
    case 400:
      return new ApiError('VALIDATION_ERROR'); // e.g. malformed JSON from the validator
    case 401:
      return new ApiError('UNAUTHENTICATED');
    case 403:
      return new ApiError('FORBIDDEN');
    case 404:
      return new ApiError('NOT_FOUND');
    case 405:
      return new ApiError('METHOD_NOT_ALLOWED');
    case 413:
      return new ApiError('PAYLOAD_TOO_LARGE');
    case 415:
      return new ApiError('UNSUPPORTED_MEDIA_TYPE');
    case 429:
      return new ApiError('RATE_LIMITED');
    default:
      return new ApiError('INTERNAL');
  }
}

/**
 * app.onError: the one place an exception becomes a response. Unknown errors are logged
 * with the request id (for the operator) and answered with a generic INTERNAL (for the
 * client): no stack, no message.
 */
export function handleError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) return errorResponse(c, fromHttpException(err));
  // The first stack line repeats the message, which may quote input; keep only the frames.
  const frames = (err.stack ?? '').split('\n').slice(1).join('\n');
  console.error(JSON.stringify({ level: 'error', requestId: c.get('requestId'), error: err.name, frames }));
  return errorResponse(c, new ApiError('INTERNAL'));
}
