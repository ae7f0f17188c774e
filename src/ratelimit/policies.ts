import { z } from 'zod';

/**
 * Named rate-limit policies. The names, keys and failure modes are code; an operator may
 * change only `limit` and `windowS` through the RATE_LIMITS var (docs/ratelimit.md), so no
 * configuration can turn a fail-closed policy into a fail-open one.
 */
export const POLICY_NAMES = [
  'hooks-ip',
  'auth-ip',
  'login-failures',
  'login-failures-account',
  'api-credential',
  'api-ip',
  'mcp-credential',
  'default-ip',
  'healthz-client',
  'events-client',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * What a request gets when the limiter itself fails (object overloaded, storage error):
 * `closed` = refuse with 503 SERVICE_UNAVAILABLE, `open` = let it through and log.
 */
export type LimiterFailureMode = 'closed' | 'open';

export interface Policy {
  /** Admitted hits per window. */
  limit: number;
  /** Sliding window length in whole seconds (RFC 9110 Retry-After is in whole seconds). */
  windowS: number;
  onLimiterFailure: LimiterFailureMode;
}

export type PolicyTable = Readonly<Record<PolicyName, Policy>>;

/** The documented defaults (docs/ratelimit.md). `api-ip` caps credential rotation from one address (docs/ratelimit.md). */
export const DEFAULT_POLICIES: PolicyTable = {
  'hooks-ip': { limit: 60, windowS: 60, onLimiterFailure: 'closed' },
  'auth-ip': { limit: 20, windowS: 60, onLimiterFailure: 'closed' },
  // Per (account, client address): one address exhausting it locks out only itself.
  'login-failures': { limit: 10, windowS: 15 * 60, onLimiterFailure: 'closed' },
  // Per account, over all addresses: the ceiling against guessing from many addresses, high
  // enough that no single address (capped at 10 by the tier above) can reach it alone.
  'login-failures-account': { limit: 100, windowS: 15 * 60, onLimiterFailure: 'closed' },
  'api-credential': { limit: 600, windowS: 60, onLimiterFailure: 'open' },
  'api-ip': { limit: 1200, windowS: 60, onLimiterFailure: 'open' },
  // Per MCP token (the bearer's hash): an agent's client lists and calls tools, it does not page through the API.
  'mcp-credential': { limit: 300, windowS: 60, onLimiterFailure: 'open' },
  'default-ip': { limit: 300, windowS: 60, onLimiterFailure: 'open' },
  // Isolate-local token bucket for /healthz (isolate-bucket.ts): no Durable Object, so no
  // limiter that could fail; it only ever refuses.
  'healthz-client': { limit: 120, windowS: 60, onLimiterFailure: 'open' },
  // Messages one /api/v1/events connection may send (burst `limit`, refilled over `windowS`),
  // counted by the EventHub object on state in the connection's attachment (src/events). A
  // client has little to say (a subscribe filter; `ping` is answered by the platform and never
  // counted), so the budget is small. No limiter object is involved, so nothing can fail open.
  'events-client': { limit: 30, windowS: 60, onLimiterFailure: 'closed' },
};

/** The log of one key holds at most `limit` timestamps inside its window (plus the last LAG_MARGIN_MS past it), so this bounds memory per key. */
export const MAX_LIMIT = 10_000;
export const MAX_WINDOW_S = 24 * 60 * 60;

const PolicyOverride = z.strictObject({
  limit: z.number().int().min(1).max(MAX_LIMIT),
  windowS: z.number().int().min(1).max(MAX_WINDOW_S),
});

/** RATE_LIMITS: `{"hooks-ip":{"limit":120,"windowS":60}, …}`; unknown names are an error (a typo must not silently keep the default). */
const RateLimitsVar = z.record(z.string(), PolicyOverride).superRefine((value, ctx) => {
  for (const name of Object.keys(value)) {
    if (!(POLICY_NAMES as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'unknown policy' });
  }
});

export type PolicyTableResult = { ok: true; policies: PolicyTable } | { ok: false; problem: string };

/** RATE_LIMITS is fixed per deployment; parse each distinct value once per isolate. */
const parsedTables = new Map<string, PolicyTableResult>();

/**
 * Parses the RATE_LIMITS var over the defaults. Unset or blank means the defaults; anything
 * else must be a valid table, and a malformed one is `ok: false` (callers fail closed),
 * never "no limits".
 */
export function loadPolicyTable(raw: string | undefined): PolicyTableResult {
  const text = (raw ?? '').trim();
  const cached = parsedTables.get(text);
  if (cached) return cached;
  const result = parsePolicyTable(text);
  parsedTables.set(text, result);
  return result;
}

function parsePolicyTable(text: string): PolicyTableResult {
  if (text === '') return { ok: true, policies: DEFAULT_POLICIES };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'RATE_LIMITS is not valid JSON' };
  }
  const parsed = RateLimitsVar.safeParse(json);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    return { ok: false, problem: `RATE_LIMITS is invalid at: ${[...new Set(paths)].join(', ')}` };
  }
  const policies = { ...DEFAULT_POLICIES };
  for (const [name, override] of Object.entries(parsed.data) as [PolicyName, z.infer<typeof PolicyOverride>][]) {
    policies[name] = { ...DEFAULT_POLICIES[name], ...override };
  }
  return { ok: true, policies };
}

/** What a bucket is keyed by. `credential` falls back to the client IP when none is sent. */
export type BucketKey = 'ip' | 'credential';

export interface RouteRule {
  /** Matched against the decoded path Hono routes on: `/hooks/` matches `/hooks/x`, not `/hooksx`. */
  prefix: string;
  /** Match the path exactly instead of as a prefix (`/healthz` must not cover `/healthzx`). */
  exact?: boolean;
  /** Checked in order; the first bucket that denies stops the request. */
  buckets: readonly { policy: PolicyName; key: BucketKey }[];
  /** A per-client token bucket in this isolate only, checked first (no Durable Object round trip). */
  isolate?: PolicyName;
}

/**
 * Route prefixes → buckets, most specific first; the first matching prefix wins and the
 * last rule (`/`) catches every other path, so no path is unlimited. On /api/v1/* the
 * per-IP bucket comes first: a flood of bogus credentials from one address is refused
 * there before it can create a fresh credential bucket per token.
 */
export const DEFAULT_ROUTE_TABLE: readonly RouteRule[] = [
  // Liveness: polled by monitors, touches no storage, so it never waits on a limiter object.
  { prefix: '/healthz', exact: true, buckets: [], isolate: 'healthz-client' },
  { prefix: '/hooks/', buckets: [{ policy: 'hooks-ip', key: 'ip' }] },
  { prefix: '/api/v1/auth/', buckets: [{ policy: 'auth-ip', key: 'ip' }] },
  // The dashboard's pages that take a password or a one-time token (src/dashboard/pages/auth.tsx,
  // account.tsx): the same bucket as /api/v1/auth/*, so switching surfaces does not double an
  // address's guesses. Prefixes, not exact paths: covering `/sign-in/` or `/resetx` too costs nothing.
  ...['/sign-in', '/setup', '/accept-invite', '/reset', '/account/password'].map((prefix) => ({
    prefix,
    buckets: [{ policy: 'auth-ip' as const, key: 'ip' as const }],
  })),
  {
    prefix: '/api/v1/',
    buckets: [
      { policy: 'api-ip', key: 'ip' },
      { policy: 'api-credential', key: 'credential' },
    ],
  },
  // The MCP endpoint (docs/mcp.md): per address first, then per token, like /api/v1/.
  {
    prefix: '/mcp/',
    buckets: [
      { policy: 'api-ip', key: 'ip' },
      { policy: 'mcp-credential', key: 'credential' },
    ],
  },
  { prefix: '/', buckets: [{ policy: 'default-ip', key: 'ip' }] },
];

export function routeRuleFor(table: readonly RouteRule[], path: string): RouteRule | undefined {
  return table.find((rule) => (rule.exact ? path === rule.prefix : path.startsWith(rule.prefix)));
}
