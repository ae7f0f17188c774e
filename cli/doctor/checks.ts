/**
 * Every check `portcullis doctor` runs: a stable id, one severity, why it matters and the
 * fix. docs/doctor.md lists the same table (test/node/doctor-docs.test.ts keeps them equal),
 * so an operator can look up any id the command prints.
 */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface CheckSpec {
  severity: Severity;
  why: string;
  fix: string;
}

export const CHECKS = {
  // Configuration (wrangler.toml), offline.
  'config.secret.in_vars': {
    severity: 'critical',
    why: 'A secret written as a plain [vars] entry is stored in the repository and shown in the dashboard.',
    fix: 'Delete it from wrangler.toml, rotate it, and set it with `wrangler secret put NAME`.',
  },
  'config.flag.dangerous': {
    severity: 'critical',
    why: 'A DANGEROUSLY_* variable switches off a protection on purpose.',
    fix: 'Remove the variable (`portcullis doctor --fix` removes it from local files).',
  },
  'config.executor.local': {
    severity: 'high',
    why: 'TOOL_EXECUTOR=local in the deployed configuration sends tool calls to a runner on a host instead of an isolated container.',
    fix: 'Set TOOL_EXECUTOR = "container" in wrangler.toml; keep `local` for `npm run dev` only (it passes `--var TOOL_EXECUTOR:local`).',
  },
  'config.executor.unset': {
    severity: 'low',
    why: 'TOOL_EXECUTOR unset or unknown: every tool call is refused with 503 (fails closed, but tools do not work).',
    fix: 'Set TOOL_EXECUTOR = "container" in wrangler.toml [vars].',
  },
  'config.operator_allow.wide': {
    severity: 'high',
    why: 'An operator allowance (TOOL_OPERATOR_ALLOW, MODEL_PRIVATE_HOSTS) wider than one host opens a range of private destinations to sandboxed code.',
    fix: 'List single `host:port` entries only, one per private destination.',
  },
  'config.operator_allow.malformed': {
    severity: 'low',
    why: 'An operator allowance entry the gateway cannot read is ignored (fails closed), so the destination you meant is not open.',
    fix: 'Write each entry as `host:port` (IPv6 as `[addr]:port`), comma separated.',
  },
  'config.ratelimit.invalid': {
    severity: 'high',
    why: 'A malformed RATE_LIMITS makes every request fail closed with 503.',
    fix: 'Fix the JSON (docs/ratelimit.md) or set RATE_LIMITS = "".',
  },
  'config.ratelimit.raised': {
    severity: 'medium',
    why: 'A rate limit raised more than 10 times above its default lets one client flood the gateway.',
    fix: 'Lower the override in RATE_LIMITS, or remove it to use the default.',
  },
  'config.ratelimit.auth_raised': {
    severity: 'high',
    why: 'A login or setup limit raised more than 10 times above its default makes password guessing practical.',
    fix: 'Remove the override of auth-ip / login-failures* from RATE_LIMITS.',
  },
  'config.compat.nodejs_compat': {
    severity: 'high',
    why: 'Without the nodejs_compat flag the Worker cannot load the libraries it needs (passwords, signing).',
    fix: 'Add "nodejs_compat" to compatibility_flags.',
  },
  'config.compat.date_stale': {
    severity: 'low',
    why: 'A compatibility_date older than a year (or none) keeps the Worker on old runtime behaviour.',
    fix: 'Set compatibility_date to a recent date and run the tests.',
  },
  'config.binding.missing': {
    severity: 'high',
    why: 'A binding the code needs is missing: the routes that use it fail.',
    fix: "Add the binding as in the repository's wrangler.toml.",
  },
  'config.migration.missing': {
    severity: 'high',
    why: 'A Durable Object class without a migration cannot be created, so its feature (audit chain, rate limits, dedupe, tools, live events) fails.',
    fix: 'Add a [[migrations]] entry with the class in new_sqlite_classes.',
  },
  'config.container.internet': {
    severity: 'critical',
    why: 'A tool container with internet access bypasses the egress allowlist.',
    fix: 'Remove the internet setting; egress goes through the outbound handler only.',
  },
  // Secrets (an env file such as .dev.vars), offline; values are never printed.
  'secrets.setup_token.missing': {
    severity: 'info',
    why: 'Without SETUP_TOKEN setup is refused (fails closed); needed only until setup is done.',
    fix: 'Set SETUP_TOKEN (`openssl rand -base64 32`) before first-time setup.',
  },
  'secrets.setup_token.weak': {
    severity: 'high',
    why: 'A short or repetitive SETUP_TOKEN can be guessed by whoever reaches the gateway before you finish setup.',
    fix: 'Use at least 32 random characters, e.g. `openssl rand -base64 32`.',
  },
  'secrets.vault_keys.missing': {
    severity: 'medium',
    why: 'Without VAULT_KEYS the vault refuses to store or open credentials.',
    fix: 'Set VAULT_KEYS to `k1:` followed by `openssl rand -base64 32`.',
  },
  'secrets.vault_keys.invalid': {
    severity: 'high',
    why: 'VAULT_KEYS that the gateway cannot parse (or a key under 32 bytes) makes every vault operation fail.',
    fix: 'Write VAULT_KEYS as `id:base64key,…` with 32-byte keys (docs/vault.md).',
  },
  'secrets.vault_keys.weak': {
    severity: 'critical',
    why: 'A vault key with little variety in its bytes is not random and can be guessed; every credential depends on it.',
    fix: 'Add a fresh random key first in VAULT_KEYS and run `portcullis vault rotate`.',
  },
  'secrets.runner_secret.missing': {
    severity: 'medium',
    why: 'Without RUNNER_SECRET the gateway cannot sign runner requests, so tool calls are refused.',
    fix: 'Set RUNNER_SECRET to at least 32 random characters.',
  },
  'secrets.runner_secret.weak': {
    severity: 'high',
    why: 'A short or repetitive RUNNER_SECRET lets another process forge signed tool calls.',
    fix: 'Use at least 32 random characters, e.g. `openssl rand -base64 32`.',
  },
  'secrets.env_file.permissions': {
    severity: 'high',
    why: 'An env file readable by other users hands them every secret in it.',
    fix: 'chmod 600 the file (`portcullis doctor --fix` does).',
  },
  // Live, with --url.
  'live.headers.missing': {
    severity: 'medium',
    why: 'A missing security header lets browsers sniff, frame or leak responses.',
    fix: 'Serve the headers of docs/http.md on every response (src/http/security-headers.ts).',
  },
  'live.csp.weak': {
    severity: 'medium',
    why: "An API Content-Security-Policy without default-src 'none' and frame-ancestors 'none' allows content to load or be framed.",
    fix: "Serve `default-src 'none'; frame-ancestors 'none'` on API responses.",
  },
  'live.cors.foreign_origin': {
    severity: 'high',
    why: "A preflight from a foreign origin got Access-Control-Allow-Origin: another site can call the API with the user's browser.",
    fix: 'Remove the origin from ALLOWED_ORIGINS; the gateway is same-origin only.',
  },
  'live.setup.open_public': {
    severity: 'critical',
    why: 'Setup is not completed on a public URL: whoever guesses or holds SETUP_TOKEN first owns the gateway.',
    fix: 'Complete setup now (POST /api/v1/setup), then remove SETUP_TOKEN.',
  },
  'live.setup.open_local': {
    severity: 'high',
    why: 'Setup is not completed: any local process with SETUP_TOKEN can claim the instance owner.',
    fix: 'Complete setup (POST /api/v1/setup).',
  },
  'live.health.dangerous': {
    severity: 'critical',
    why: '/healthz reports a dangerous setting in force.',
    fix: 'Remove the named variable from the deployment and redeploy.',
  },
  // Live, with PORTCULLIS_API_KEY (scopes admin and audit:read; agents:read for agents, tools, credentials).
  'api.agent.unrestricted': {
    severity: 'high',
    why: 'An agent with isolation `unrestricted` exists; it is allowed only because a dangerous flag is on.',
    fix: 'PATCH the agent to isolation `container` or `sandbox`.',
  },
  'api.tool.shell_without_approval': {
    severity: 'high',
    why: 'A tool may spawn a shell and runs without a person approving each call.',
    fix: 'Reinstall it with approval `always`, or remove the exec:spawn of a shell.',
  },
  'api.tool.net_any_without_approval': {
    severity: 'high',
    why: 'A tool may connect to any host (net:connect:*) and runs without approval.',
    fix: 'Declare the hosts it needs, or reinstall it with approval `always`.',
  },
  'api.credential.unbound': {
    severity: 'high',
    why: 'A credential without bound hosts can be sent to any destination a tool reaches.',
    fix: 'PUT the credential again with allowedHosts.',
  },
  'api.key.no_expiry': {
    severity: 'medium',
    why: 'An API key that never expires stays valid after it leaks and is forgotten.',
    fix: 'Create a replacement with expiresInDays and revoke this one.',
  },
  'api.key.unused': {
    severity: 'low',
    why: 'An API key unused for 90 days is probably forgotten, but still valid.',
    fix: 'Revoke it (DELETE /api/v1/api-keys/{id}).',
  },
  'api.owner.stale_signin': {
    severity: 'medium',
    why: 'An owner who has not signed in for 90 days holds full control nobody is using: a forgotten password or a departed person.',
    fix: 'Have the owner sign in and change the password, or demote or remove the account (PATCH /api/v1/users/{id}).',
  },
  'api.vault.key_old': {
    severity: 'medium',
    why: 'The vault key that seals every credential has not been rotated for 180 days: the longer one key lives, the more a leak of it exposes.',
    fix: 'Add a new key first in VAULT_KEYS and run `portcullis vault rotate` (docs/vault.md).',
  },
  'api.audit.broken': {
    severity: 'critical',
    why: 'The audit chain does not verify: events were edited, relinked or removed.',
    fix: 'Export the chain, investigate from the first broken event, and treat the deployment as compromised.',
  },
} as const satisfies Record<string, CheckSpec>;

export type CheckId = keyof typeof CHECKS;

/** One thing doctor saw. `seen` names where and what, never a secret value. */
export interface Finding {
  id: CheckId;
  severity: Severity;
  seen: string;
  fix: string;
}

/** A requested check that could not run, and why (exit status 3 unless a finding is worse). */
export interface NotRun {
  check: string;
  reason: string;
}

export function finding(id: CheckId, seen: string): Finding {
  return { id, severity: CHECKS[id].severity, seen, fix: CHECKS[id].fix };
}
