import { createApp } from './app';
import { loginThrottle } from './ratelimit';

/** The Worker entry point: the app wired from src/app.ts, and the Durable Object classes. */
export { loginThrottle };
export default createApp({ loginThrottle });

// Durable Object classes must be exported by the Worker's main module.
export { AuditLog } from './audit';
export { RateLimiter } from './ratelimit';
export { ConnectorRecordCache, WebhookDedupe } from './webhooks';
export { ToolConcurrency, ToolSandbox } from './tools';
export { Conversation } from './conversations';
export { EventHub } from './events';
// The Containers package routes a container's intercepted egress through this entrypoint.
export { ContainerProxy } from '@cloudflare/containers';
