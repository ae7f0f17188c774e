import { createMessageLimiter, type MessageLimiter } from './ws-message-limiter';

/**
 * Per-client token buckets held in this isolate only, for routes that must never wait on a
 * Durable Object (`/healthz`: liveness monitors poll it, and it touches no storage). It is
 * not exact and not shared between isolates: it only ever refuses, so it caps what one
 * client costs one isolate, and the exact limits elsewhere stay untouched because this
 * route never reaches them (docs/ratelimit.md "/healthz").
 */
export interface IsolateLimit {
  /** Requests per window per client in one isolate (the bucket's burst). */
  limit: number;
  windowS: number;
}

/** Clients tracked per isolate; past this the oldest bucket is dropped (it refills to full anyway). */
export const ISOLATE_BUCKETS_MAX = 4_096;

const buckets = new Map<string, MessageLimiter>();

/** Takes one token of `key`'s bucket at `now`; false means refuse. */
export function isolateAllow(policy: string, key: string, limit: IsolateLimit, now: number): boolean {
  const k = `${policy}\n${limit.limit}\n${limit.windowS}\n${key}`;
  let bucket = buckets.get(k);
  if (bucket) {
    buckets.delete(k);
  } else {
    bucket = createMessageLimiter({ perSecond: limit.limit / limit.windowS, burst: limit.limit, nowMs: now });
    if (buckets.size >= ISOLATE_BUCKETS_MAX) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
  }
  buckets.set(k, bucket);
  return bucket.allow(now);
}
