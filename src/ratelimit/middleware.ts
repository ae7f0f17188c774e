import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../env';
import { ApiError, clientIpOf, waitUntilOf } from '../http';
import { parseBearer, SESSION_COOKIE, sha256Hex } from '../lib';
import { consumeAll, type BucketAsk, type RateLimitResult } from './consume';
import { isolateAllow } from './isolate-bucket';
import { ipBucketKey } from './ip-key';
import { DEFAULT_ROUTE_TABLE, loadPolicyTable, routeRuleFor, type BucketKey, type RouteRule } from './policies';

/** Retry-After sent with the 503 of a fail-closed policy whose limiter is down. */
export const LIMITER_DOWN_RETRY_AFTER_S = 5;

type Decided = Extract<RateLimitResult, { kind: 'decided' }>;

/**
 * RateLimit-Limit / -Remaining / -Reset as in draft-ietf-httpapi-ratelimit-headers-06
 * (three separate fields, Reset as delta-seconds, never a date, to avoid clock skew), plus
 * RFC 9110 §10.2.3 Retry-After (delta-seconds) on a denial.
 */
export function rateLimitHeaders(result: Decided): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(result.limit),
    'RateLimit-Remaining': String(result.remaining),
    'RateLimit-Reset': String(result.resetS),
  };
  if (!result.admitted) headers['Retry-After'] = String(result.retryAfterS);
  return headers;
}

/**
 * Key of a `credential` bucket, derived before any D1 lookup: SHA-256 of the bearer token,
 * else of the session cookie, else the client IP. The header is read by the same parser as
 * authentication, so the bucket is always that of the credential authentication uses; a
 * malformed header (refused by authentication) is keyed by the IP, never by a cookie the
 * client could rotate. Hashing keeps the token out of object names and logs; a bogus token
 * gets its own bucket, which is why /api/v1/* also has a per-IP bucket checked first.
 */
async function credentialKey(c: Context<AppEnv>, ip: string): Promise<{ key: string; auditKey: string }> {
  const header = parseBearer(c.req.header('Authorization'));
  if (header.kind === 'malformed') return { key: ipBucketKey(ip), auditKey: ipBucketKey(ip) };
  const bearer = header.kind === 'token' ? header.token : undefined;
  const token = bearer ?? getCookie(c, SESSION_COOKIE);
  if (token) return { key: `cred:${await sha256Hex(token)}`, auditKey: bearer ? 'credential:bearer' : 'credential:session' };
  return { key: ipBucketKey(ip), auditKey: ipBucketKey(ip) };
}

async function keyFor(c: Context<AppEnv>, kind: BucketKey, ip: string): Promise<{ key: string; auditKey: string }> {
  return kind === 'ip' ? { key: ipBucketKey(ip), auditKey: ipBucketKey(ip) } : credentialKey(c, ip);
}

/**
 * Applies the route table before any body is read or any credential is looked up.
 * Precedence (docs/ratelimit.md "Decision order", same numbers):
 *  1. RATE_LIMITS malformed → 503 SERVICE_UNAVAILABLE, logged; never "no limits".
 *  2. No rule matches the path → 503 (the default table ends with `/`; a custom table
 *     without a catch-all fails closed, not open).
 *  3. The rule has an isolate-local bucket (/healthz) and this client's is empty in this
 *     isolate → 429 RATE_LIMITED + Retry-After (no round trip, ever).
 *  4. The deny cache of this isolate already refuses one of the rule's buckets → 429
 *     RATE_LIMITED + Retry-After + RateLimit-* (no round trip).
 *  5. Otherwise every bucket is asked in one go (one call per shard, in flight together),
 *     and the verdicts are read in the rule's order:
 *     5.1 limiter failed, policy fails closed → 503 SERVICE_UNAVAILABLE + Retry-After;
 *     5.2 limiter failed, policy fails open → this bucket is skipped (logged);
 *     5.3 bucket denies → 429 RATE_LIMITED + Retry-After + RateLimit-*.
 *  6. Only when every bucket admitted (or failed open) does the request go on; its
 *     response carries RateLimit-* of the tightest bucket (fewest remaining).
 */
export function rateLimit(
  table: readonly RouteRule[] = DEFAULT_ROUTE_TABLE,
  options: { now?: () => number } = {},
): MiddlewareHandler<AppEnv> {
  const clock = options.now ?? (() => Date.now());
  return async function rateLimitMiddleware(c, next) {
    const policies = loadPolicyTable(c.env.RATE_LIMITS);
    // 1.
    if (!policies.ok) {
      console.error(
        JSON.stringify({
          level: 'error',
          event: 'ratelimit.misconfigured',
          requestId: c.get('requestId'),
          problem: policies.problem,
          action: 'refusing every request until RATE_LIMITS is fixed',
        }),
      );
      throw new ApiError('SERVICE_UNAVAILABLE');
    }
    const rule = routeRuleFor(table, c.req.path);
    // 2.
    if (!rule) throw new ApiError('SERVICE_UNAVAILABLE');
    const ip = clientIpOf(c);
    const now = clock();
    // 3.
    if (rule.isolate) {
      const local = policies.policies[rule.isolate];
      if (!isolateAllow(rule.isolate, ipBucketKey(ip), local, now)) {
        // A token returns every windowS / limit seconds; whole seconds, at least 1.
        throw new ApiError('RATE_LIMITED', undefined, {}, { 'Retry-After': String(Math.max(1, Math.ceil(local.windowS / local.limit))) });
      }
    }
    const asks: BucketAsk[] = [];
    for (const bucket of rule.buckets) asks.push({ policy: bucket.policy, ...(await keyFor(c, bucket.key, ip)) });
    // 4. and 5. (consumeAll answers from the deny cache when it can, else asks the shards)
    const results = asks.length ? await consumeAll(c.env, asks, now, { actor: `ip:${ip}`, waitUntil: waitUntilOf(c) }) : [];
    let tightest: Decided | undefined;
    for (const result of results) {
      if (result.kind === 'unavailable') {
        // 5.1 / 5.2
        if (!result.admitted)
          throw new ApiError('SERVICE_UNAVAILABLE', undefined, {}, { 'Retry-After': String(LIMITER_DOWN_RETRY_AFTER_S) });
        continue;
      }
      // 4. / 5.3
      if (!result.admitted) throw new ApiError('RATE_LIMITED', undefined, {}, rateLimitHeaders(result));
      if (!tightest || result.remaining < tightest.remaining) tightest = result;
    }
    // 6.
    if (!tightest) return next();
    const headers = rateLimitHeaders(tightest);
    try {
      await next();
    } catch (error) {
      // An ApiError thrown past us (e.g. by the 404/405 handler) becomes its response later,
      // outside this middleware: carry the headers on the error itself.
      if (error instanceof ApiError) throw new ApiError(error.code, error.message, error.details, { ...headers, ...error.headers });
      throw error;
    }
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}
