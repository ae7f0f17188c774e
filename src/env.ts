/**
 * Bindings the Worker receives. Passed explicitly to every function that needs one
 * (house style: bindings are never read from globals).
 */
import type { AuditLog } from './audit/audit-log-object';
import type { Principal } from './auth/scopes';
import type { RateLimiter } from './ratelimit/limiter-object';
import type { WebhookDedupe } from './webhooks/dedupe-object';

export interface Env {
  DB: D1Database;
  /** One AuditLog Durable Object per audit chain; the only writer of that chain. */
  AUDIT_LOG: DurableObjectNamespace<AuditLog>;
  /** One RateLimiter Durable Object per (policy, key): exact sliding-window counts. */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** JSON overrides of rate-limit policies (docs/ratelimit.md); blank = defaults; malformed = fail closed. */
  RATE_LIMITS?: string;
  /** One WebhookDedupe Durable Object per connector: the webhook replay/duplicate window. */
  WEBHOOK_DEDUPE: DurableObjectNamespace<WebhookDedupe>;
  /** Comma-separated extra origins allowed for CORS and WebSocket upgrades. */
  ALLOWED_ORIGINS?: string;
  /** One-time secret that authorises first-time setup (POST /api/v1/setup). */
  SETUP_TOKEN?: string;
  /** Vault keyring: `id:base64key,…`; the first key encrypts, all decrypt. */
  VAULT_KEYS?: string;
  /** "true" allows agents with isolation `unrestricted` (tools run with no sandbox). Dangerous. */
  DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS?: string;
}

/** Per-request values set by the http/ middleware. */
export interface RequestVars {
  requestId: string;
  clientIp: string;
  /** The authenticated caller, set by auth's authenticate() on protected routes. */
  principal?: Principal;
}

export interface AppEnv {
  Bindings: Env;
  Variables: RequestVars;
}
