import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { and, eq, isNull } from 'drizzle-orm';
import { apiKeys, createDb, users, type Database } from '../db';
import type { AppEnv } from '../env';
import { ApiError, clockOf, isAllowedOrigin, parseAllowedOrigins } from '../http';
import { isWellFormedApiKey } from './api-key-format';
import { effectiveKeyScopes, ROLE_SCOPES, type Principal, type Scope } from './scopes';
import { parseBearer, SESSION_COOKIE_NAME, timingSafeEqualText } from '../lib';
import { sessionFormToken } from './form-token';
import { findSession } from './sessions';
import { hashToken } from './tokens';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * How a cookie-authenticated unsafe request proves it came from the gateway's own page:
 * - `header` (the API): X-CSRF-Token, the token POST /api/v1/auth/login returned, checked
 *   against the hash stored with the session;
 * - `form` (the dashboard's HTML forms, src/dashboard/session.ts): the field it reads must
 *   equal sessionFormToken(the session token) (form-token.ts), a value derived from the session,
 *   so a session opened through the API can submit forms too.
 * Either way the comparison is constant time; a form field never satisfies an API route and
 * the header never satisfies a form (the two values differ).
 */
export type CsrfTokenSource = (c: Context<AppEnv>) => Promise<string | undefined>;
export type CsrfProof = { kind: 'header' } | { kind: 'form'; field: CsrfTokenSource };
/** last_used_at on API keys is written at most this often. */
const KEY_TOUCH_INTERVAL_MS = 60 * 1000;

/** The same reading of the header as the rate limiter's credential bucket (src/lib/bearer.ts). */
function bearerToken(c: Context<AppEnv>): string | undefined {
  const bearer = parseBearer(c.req.header('Authorization'));
  if (bearer.kind === 'malformed') throw new ApiError('UNAUTHENTICATED');
  return bearer.kind === 'token' ? bearer.token : undefined;
}

async function principalFromApiKey(db: Database, key: string, now: number): Promise<Principal> {
  // Checksum first: a made-up or mistyped key is refused without a database read.
  if (!isWellFormedApiKey(key)) throw new ApiError('UNAUTHENTICATED');
  const [row] = await db
    .select({ key: apiKeys, user: users })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.createdBy))
    .where(and(eq(apiKeys.keyHash, await hashToken(key)), isNull(apiKeys.revokedAt)))
    .limit(1);
  // 1 unknown or revoked → 401; 2 expired → 401; 3 creator moved to another workspace → 401.
  if (!row) throw new ApiError('UNAUTHENTICATED');
  if (row.key.expiresAt !== null && now >= row.key.expiresAt) throw new ApiError('UNAUTHENTICATED');
  if (row.user.workspaceId !== row.key.workspaceId) throw new ApiError('UNAUTHENTICATED');
  if (row.key.lastUsedAt === null || now - row.key.lastUsedAt >= KEY_TOUCH_INTERVAL_MS) {
    await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.key.id));
  }
  return {
    kind: 'api_key',
    userId: row.user.id,
    workspaceId: row.key.workspaceId,
    email: row.user.email,
    role: row.user.role,
    isInstanceOwner: row.user.isInstanceOwner,
    scopes: effectiveKeyScopes(row.key.scopes, row.user.role),
    apiKeyId: row.key.id,
  };
}

/**
 * CSRF for cookie-authenticated unsafe requests: X-CSRF-Token must match the session's
 * token (constant time, against the stored hash), and an Origin header, when present, must
 * be the gateway's own or a configured one. API-key requests are exempt: browsers do not
 * attach Authorization headers on their own.
 */
async function checkCsrf(c: Context<AppEnv>, session: { token: string; csrfTokenHash: string }, proof: CsrfProof): Promise<void> {
  if (!UNSAFE_METHODS.has(c.req.method)) return;
  const origin = c.req.header('Origin');
  if (origin !== undefined && !isAllowedOrigin(origin, c.req.url, parseAllowedOrigins(c.env.ALLOWED_ORIGINS))) {
    throw new ApiError('CSRF_FAILED');
  }
  if (proof.kind === 'header') {
    const sent = c.req.header('X-CSRF-Token');
    if (!sent || !timingSafeEqualText(await hashToken(sent), session.csrfTokenHash)) throw new ApiError('CSRF_FAILED');
    return;
  }
  const sent = await proof.field(c);
  if (!sent || !timingSafeEqualText(sent, sessionFormToken(session.token))) throw new ApiError('CSRF_FAILED');
}

async function principalFromSession(c: Context<AppEnv>, db: Database, token: string, now: number, proof: CsrfProof): Promise<Principal> {
  const member = await memberOfSession(db, token, now);
  if (!member) throw new ApiError('UNAUTHENTICATED');
  await checkCsrf(c, { token, csrfTokenHash: member.csrfTokenHash }, proof);
  return member.principal;
}

/** The live session `token` names and its user as they are now, or null (unknown, expired, user gone). */
async function memberOfSession(db: Database, token: string, now: number): Promise<{ principal: Principal; csrfTokenHash: string } | null> {
  const session = await findSession(db, token, now);
  if (session.kind !== 'valid') return null;
  const [user] = await db.select().from(users).where(eq(users.id, session.userId)).limit(1);
  if (!user) return null;
  return {
    csrfTokenHash: session.csrfTokenHash,
    principal: {
      kind: 'session',
      userId: user.id,
      workspaceId: user.workspaceId,
      email: user.email,
      role: user.role,
      isInstanceOwner: user.isInstanceOwner,
      scopes: new Set(ROLE_SCOPES[user.role]),
      sessionId: session.id,
    },
  };
}

/**
 * Resolves the caller from `Authorization: Bearer pcl_…` or the session cookie and puts it
 * in c.var.principal; anything else is 401 UNAUTHENTICATED. A request carrying both uses
 * the API key (the explicit credential) and ignores the cookie. Time is `options.now`, else
 * the app's clock on the request (routes declare this middleware before any clock exists).
 */
export function authenticate(options: { now?: () => number; csrf?: CsrfProof } = {}): MiddlewareHandler<AppEnv> {
  const proof = options.csrf ?? { kind: 'header' };
  return async function authenticateMiddleware(c, next) {
    const db = createDb(c.env.DB);
    const now = (options.now ?? clockOf(c))();
    const key = bearerToken(c);
    const cookie = getCookie(c, SESSION_COOKIE_NAME, 'host');
    if (key !== undefined) c.set('principal', await principalFromApiKey(db, key, now));
    else if (cookie) c.set('principal', await principalFromSession(c, db, cookie, now, proof));
    else throw new ApiError('UNAUTHENTICATED');
    await next();
  };
}

/**
 * The signed-in member behind the session cookie, for a server-rendered form (the OAuth
 * consent page, src/mcp/oauth/consent.ts), or null when there is none or it expired. It does
 * NOT check CSRF: a form cannot send X-CSRF-Token, so the caller must check its own form
 * token, sessionBoundToken(`sessionToken`, its purpose) (form-token.ts), in constant time
 * before acting on a POST.
 */
export async function sessionMember(c: Context<AppEnv>, now: number): Promise<{ principal: Principal; sessionToken: string } | null> {
  const cookie = getCookie(c, SESSION_COOKIE_NAME, 'host');
  if (!cookie) return null;
  const member = await memberOfSession(createDb(c.env.DB), cookie, now);
  return member ? { principal: member.principal, sessionToken: cookie } : null;
}

/**
 * The principal of an OAuth grant (src/mcp/oauth/): its user as they are NOW (role changes
 * apply at once; a deleted user or one moved to another workspace → null), holding only
 * `tools:invoke` and only if the role still has it. `sessionId` carries the grant id, so
 * MCP sessions and approvals name the grant as the credential that asked.
 */
export async function grantPrincipal(
  db: Database,
  grant: { userId: string; workspaceId: string; grantId: string },
): Promise<Principal | null> {
  const [user] = await db.select().from(users).where(eq(users.id, grant.userId)).limit(1);
  if (!user || user.workspaceId !== grant.workspaceId) return null;
  const scopes = new Set<Scope>(ROLE_SCOPES[user.role].filter((scope) => scope === 'tools:invoke'));
  return {
    kind: 'session',
    userId: user.id,
    workspaceId: user.workspaceId,
    email: user.email,
    role: user.role,
    isInstanceOwner: user.isInstanceOwner,
    scopes,
    sessionId: grant.grantId,
  };
}

export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (!principal) throw new ApiError('UNAUTHENTICATED');
  return principal;
}

/** 403 FORBIDDEN unless the caller holds every listed scope. */
export function requireScope(...required: Scope[]): MiddlewareHandler<AppEnv> {
  return async function requireScopeMiddleware(c, next) {
    const principal = principalOf(c);
    if (!required.every((scope) => principal.scopes.has(scope))) throw new ApiError('FORBIDDEN');
    await next();
  };
}
