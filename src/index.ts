import { createApp } from './app';
import type { LoginThrottle } from './auth';

// TEMPORARY (not to be committed): replaced by the RateLimiter-backed throttle on merge.
const failures = new Map<string, number[]>();
const tempThrottle: LoginThrottle = {
  async check(_env, key, now) {
    const recent = (failures.get(key) ?? []).filter((t) => now - t < 15 * 60_000);
    return recent.length >= 10 ? { locked: true, retryAfterS: Math.ceil((recent[0]! + 15 * 60_000 - now) / 1000) } : { locked: false };
  },
  async recordFailure(_env, key, now) {
    failures.set(key, [...(failures.get(key) ?? []), now]);
  },
};

/** The Worker entry point: the app wired from src/app.ts, and the Durable Object classes. */
export const loginThrottle = tempThrottle;
export default createApp({ loginThrottle });

// Durable Object classes must be exported by the Worker's main module.
export { AuditLog } from './audit';
export { WebhookDedupe } from './webhooks';
export { ToolConcurrency, ToolSandbox } from './tools';
// The Containers package routes a container's intercepted egress through this entrypoint.
export { ContainerProxy } from '@cloudflare/containers';
