/** Rate limiting: exact per-key limits in Durable Objects (docs/ratelimit.md). */
export { consume, limiterName, peek, refund, type ConsumeOptions, type RateLimitBindings, type RateLimitResult } from './consume';
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
