/**
 * Bindings the Worker receives. Passed explicitly to every function that needs one
 * (house style: bindings are never read from globals).
 */
import type { AuditLog } from './audit/audit-log-object';
import type { Principal } from './auth/scopes';
import type { RateLimiter } from './ratelimit/limiter-object';
import type { ToolConcurrency } from './tools/concurrency-object';
import type { ToolSandbox } from './tools/sandbox-object';
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
  /** Tool executor (docs/sandbox.md "Worker side"): `container` or `local`; unset or other → calls refused (503). */
  TOOL_EXECUTOR?: string;
  /** Local executor: base URL of the runner (`npm run runner`), e.g. http://127.0.0.1:8791. */
  RUNNER_URL?: string;
  /** Absolute host directory where the local runner keeps per-agent workspaces (local executor). */
  RUNNER_WORKSPACE_ROOT?: string;
  /** HMAC key shared with the runner (≥ 32 characters); a secret. */
  RUNNER_SECRET?: string;
  /** Ceiling for a call's timeout in ms (default 30000, at most 600000). */
  TOOL_TIMEOUT_MAX_MS?: string;
  /** How long a call waits in its agent's queue for a slot, in ms (default 10000, 0 = refuse at once, max 60000). */
  TOOL_QUEUE_WAIT_MS?: string;
  /** Output cap per call in bytes (default 65536). */
  TOOL_OUTPUT_LIMIT_BYTES?: string;
  /** ToolSandbox Containers, one per (workspace, agent, tool policy hash). */
  TOOL_SANDBOX?: DurableObjectNamespace<ToolSandbox>;
  /** How long an idle ToolSandbox lives (`5m`, `30s`, …; default 5m). */
  TOOL_SANDBOX_SLEEP_AFTER?: string;
  /** Operator-opened private destinations for container egress, `host:port,…` (never from a manifest). */
  TOOL_OPERATOR_ALLOW?: string;
  /** One ToolConcurrency Durable Object per agent: running-call leases. */
  TOOL_CONCURRENCY: DurableObjectNamespace<ToolConcurrency>;
}

/** Per-request values set by the http/ middleware. */
export interface RequestVars {
  requestId: string;
  clientIp: string;
  /** The authenticated caller, set by auth's authenticate() on protected routes. */
  principal?: Principal;
  /** The app's clock (http/request-clock.ts), read by middleware declared with each route. */
  now?: () => number;
}

export interface AppEnv {
  Bindings: Env;
  Variables: RequestVars;
}
