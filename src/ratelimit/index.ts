/** Rate limiting: exact per-key limits in sharded Durable Objects, an isolate-local deny cache (docs/ratelimit.md). */
export {
  consume,
  consumeAll,
  peek,
  refund,
  type BucketAsk,
  type ConsumeOptions,
  type RateLimitBindings,
  type RateLimitResult,
} from './consume';
export { DENY_CACHE_MAX_ENTRIES, denyCacheSize } from './deny-cache';
export { ISOLATE_BUCKETS_MAX, isolateAllow, type IsolateLimit } from './isolate-bucket';
export { LIMITER_SHARDS, limiterShardName, shardOf } from './shards';
export { SHARD_MEMORY, windowKey, type MemoryBound, type WindowAsk } from './window-store';
export { RateLimiter } from './limiter-object';
export { loginThrottle } from './login-throttle';
export { LIMITER_DOWN_RETRY_AFTER_S, rateLimit, rateLimitHeaders } from './middleware';
export { rateLimitResponses } from './openapi';
export {
  DEFAULT_POLICIES,
  DEFAULT_ROUTE_TABLE,
  loadPolicyTable,
  MAX_LIMIT,
  POLICY_NAMES,
  type Policy,
  type PolicyName,
  type RouteRule,
} from './policies';
export { createMessageLimiter, WS_MESSAGE_BURST, WS_MESSAGES_PER_S, WS_POLICY_VIOLATION, type MessageLimiter } from './ws-message-limiter';
