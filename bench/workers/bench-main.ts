/**
 * The bench Worker: the gateway itself plus what the comparison needs. hono-rate-limiter's
 * Durable Object class must be exported by the main module for its binding to resolve.
 */
export { default } from '../../src/index';
export * from '../../src/index';
export { DurableObjectRateLimiter as HonoRateLimiterObject } from '@hono-rate-limiter/cloudflare';
