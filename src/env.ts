/**
 * Bindings the Worker receives. Passed explicitly to every function that needs one
 * (house style: bindings are never read from globals).
 *
 * What wrangler.toml declares (D1, the Durable Objects, the ToolSandbox container, the
 * [vars]) is typed by `wrangler types` in src/env.generated.d.ts as the global `WranglerEnv`:
 * regenerate it with `npm run types:env` after editing wrangler.toml; `npm test`
 * (`npm run check:env`) fails while it is stale. Secrets and optional settings are not in
 * wrangler.toml (a secret must never be, and an unset setting has a meaning of its own), so
 * they are declared here by hand; `.dev.vars.example` lists the same names.
 */
import type { Principal } from './auth/scopes';

/**
 * Secrets and settings wrangler.toml does not declare. Joined to WranglerEnv with `&`, not
 * `extends`, so that moving a setting into [vars] (say TOOL_EXECUTOR = "container") and
 * regenerating needs no edit here: the generated, required property simply wins.
 */
interface SecretsAndSettings {
  /** One-time secret that authorises first-time setup (POST /api/v1/setup). */
  SETUP_TOKEN?: string;
  /** Vault keyring: `id:base64key,…`; the first key encrypts, all decrypt. A secret. */
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
  /** How long an idle ToolSandbox lives (`5m`, `30s`, …; default 5m). */
  TOOL_SANDBOX_SLEEP_AFTER?: string;
  /** Operator-opened private destinations for container egress, `host:port,…` (never from a manifest). */
  TOOL_OPERATOR_ALLOW?: string;
}

export type Env = WranglerEnv & SecretsAndSettings;

/** Per-request values set by the http/ middleware. */
export interface RequestVars {
  requestId: string;
  clientIp: string;
  /** The authenticated caller, set by auth's authenticate() on protected routes. */
  principal?: Principal;
  /** The app's clock (http/request-clock.ts), read by middleware declared with each route. */
  now?: () => number;
  /** A server-rendered page's own CSP (the OAuth consent page); securityHeaders() sends it instead of the API's. */
  pageCsp?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: RequestVars;
}
