import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../env';
import { ApiError } from './errors';

/** JSON routes accept at most 1 MiB (docs/http.md). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `application/json`, optionally with parameters (`; charset=utf-8`); nothing else. */
function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const essence = contentType.split(';', 1)[0]?.trim().toLowerCase();
  return essence === 'application/json';
}

function hasBody(request: Request): boolean {
  return request.body !== null && request.headers.get('Content-Length')?.trim() !== '0';
}

/**
 * Guards JSON API routes: a request that carries a body must say application/json (415)
 * and may not exceed maxBytes (413). Hono's bodyLimit counts bytes while the stream is
 * read, so a chunked body or a lying Content-Length is cut off too, not only an honest one.
 */
export function jsonBody(options: { maxBytes?: number } = {}): MiddlewareHandler<AppEnv> {
  const maxSize = options.maxBytes ?? MAX_JSON_BODY_BYTES;
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE');
    },
  });
  return async function jsonBodyMiddleware(c, next) {
    if (!METHODS_WITH_BODY.has(c.req.method) || !hasBody(c.req.raw)) return next();
    if (!isJsonMediaType(c.req.header('Content-Type'))) throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
    return limit(c, next);
  };
}

/** Same streaming byte cap for routes that read a raw body themselves (webhooks). */
export function rawBodyLimit(options: { maxBytes?: number } = {}): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: options.maxBytes ?? MAX_JSON_BODY_BYTES,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE');
    },
  });
}
