import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { deleteCookie } from 'hono/cookie';
import { recordAudit } from '../../audit';
import { createDb, users, type OneTimeTokenPurpose } from '../../db';
import { ApiError, createRouter, errorResponses, jsonBodyOf } from '../../http';
import { principalOf } from '../authenticate';
import type { LoginThrottle } from '../login-throttle';
import { ARGON2_PARAMS, dummyPasswordHash, hashPassword, verifyPassword, type Argon2id } from '../passwords';
import { checkPasswordPolicy } from '../password-policy';
import { Email, jsonContent, Password, Token, UserView } from '../schemas';
import { revokeUserApiKeys, revokeUserSessions, SESSION_COOKIE_NAME } from '../sessions';
import { setSessionCookie, signIn, signOut } from '../sign-in';
import { consumeTokenStatement, findLiveToken, tokenIsLive } from '../one-time-tokens';
import { PUBLIC, secured, signedIn } from '../secured';
import { emailTag } from '../tokens';
import type { Clock } from './clock';

const LoginRequest = z.object({ email: Email, password: Password }).openapi('LoginRequest');
const LoginResult = z.object({ user: UserView, csrfToken: z.string() }).openapi('LoginResult');
const TokenPasswordRequest = z.object({ token: Token, password: Password }).openapi('AcceptInviteRequest');
const ResetRequest = z.object({ token: Token, newPassword: Password }).openapi('ResetPasswordRequest');
const ChangePasswordRequest = z.object({ currentPassword: Password, newPassword: Password }).openapi('ChangePasswordRequest');

const body = jsonBodyOf;
const noContent = { 204: { description: 'Done' } };

const loginRoute = secured(
  {
    method: 'post',
    path: '/api/v1/auth/login',
    operationId: 'login',
    summary: 'Sign in; sets the __Host-portcullis_session cookie and returns the CSRF token',
    request: body(LoginRequest),
    responses: { 200: { description: 'Signed in', ...jsonContent(LoginResult) }, ...errorResponses(400, 401, 429) },
  },
  PUBLIC,
);
const logoutRoute = secured(
  {
    method: 'post',
    path: '/api/v1/auth/logout',
    operationId: 'logout',
    summary: 'Revoke the current session',
    responses: { ...noContent, ...errorResponses(401, 403) },
  },
  signedIn(),
);
const acceptInviteRoute = secured(
  {
    method: 'post',
    path: '/api/v1/auth/accept-invite',
    operationId: 'acceptInvite',
    summary: 'Redeem an invitation token and set a password',
    request: body(TokenPasswordRequest),
    responses: { ...noContent, ...errorResponses(400, 401) },
  },
  PUBLIC,
);
const resetRoute = secured(
  {
    method: 'post',
    path: '/api/v1/auth/reset',
    operationId: 'resetPassword',
    summary: 'Redeem a password-reset token; revokes all of that user’s sessions and the API keys they created',
    request: body(ResetRequest),
    responses: { ...noContent, ...errorResponses(400, 401) },
  },
  PUBLIC,
);
const changePasswordRoute = secured(
  {
    method: 'post',
    path: '/api/v1/auth/password',
    operationId: 'changePassword',
    summary: 'Change your password (needs a session, never an API key); revokes your other sessions and all API keys you created',
    request: body(ChangePasswordRequest),
    responses: { ...noContent, ...errorResponses(400, 401, 403) },
  },
  signedIn(),
);

function policyError(): ApiError {
  return new ApiError('VALIDATION_ERROR', 'The password does not meet the policy.', { fields: ['password'] });
}

/** Sign-in (decisions in ../sign-in.ts, shared with the dashboard) and the password lifecycle. */
export function sessionRoutes(now: Clock, throttle: LoginThrottle, argon2id?: Argon2id) {
  const router = createRouter();

  router.openapi(loginRoute, async (c) => {
    const { email, password } = c.req.valid('json');
    const { user, session } = await signIn(c.env, { email, password, clientIp: c.get('clientIp') }, { now, throttle, argon2id });
    setSessionCookie(c, session.token);
    return c.json({ user, csrfToken: session.csrfToken }, 200);
  });

  router.openapi(logoutRoute, async (c) => {
    await signOut(c.env, principalOf(c), now);
    deleteCookie(c, SESSION_COOKIE_NAME, { path: '/', secure: true, prefix: 'host' });
    return c.body(null, 204);
  });

  /** Shared by accept-invite and reset: validate first, then redeem atomically. */
  async function redeem(d1: D1Database, purpose: OneTimeTokenPurpose, token: string, password: string, at: number) {
    const db = createDb(d1);
    const live = await findLiveToken(db, purpose, token, at);
    if (!live) throw new ApiError('INVALID_CREDENTIALS', 'The token is invalid or has expired.');
    const [user] = await db
      .select()
      .from(users)
      .where(and(eq(users.id, live.userId), eq(users.workspaceId, live.workspaceId)))
      .limit(1);
    if (!user) throw new ApiError('INVALID_CREDENTIALS', 'The token is invalid or has expired.');
    if (checkPasswordPolicy(password, user.email)) throw policyError();
    const passwordHash = await hashPassword(password, ARGON2_PARAMS, argon2id);
    const [, spent] = await db.batch([
      db
        .update(users)
        .set({ passwordHash, updatedAt: at })
        .where(and(eq(users.id, user.id), tokenIsLive(live.id, at))),
      consumeTokenStatement(db, live.id, at),
    ]);
    if (spent.meta.changes !== 1) throw new ApiError('INVALID_CREDENTIALS', 'The token is invalid or has expired.');
    return user;
  }

  router.openapi(acceptInviteRoute, async (c) => {
    const { token, password } = c.req.valid('json');
    const at = now();
    const user = await redeem(c.env.DB, 'invite', token, password, at);
    await recordAudit(
      c.env,
      { workspaceId: user.workspaceId, kind: 'auth.invite.accepted', actor: `user:${user.id}`, data: { userId: user.id } },
      at,
    );
    return c.body(null, 204);
  });

  router.openapi(resetRoute, async (c) => {
    const { token, newPassword } = c.req.valid('json');
    const at = now();
    const user = await redeem(c.env.DB, 'password-reset', token, newPassword, at);
    const db = createDb(c.env.DB);
    const sessionsRevoked = await revokeUserSessions(db, user.id, at);
    // Keys the user made may have been made by whoever held the account: a reset ends them too.
    const keysRevoked = await revokeUserApiKeys(db, user.id, at);
    await recordAudit(
      c.env,
      {
        workspaceId: user.workspaceId,
        kind: 'auth.password.reset',
        actor: `user:${user.id}`,
        data: { userId: user.id, sessionsRevoked, apiKeysRevoked: keysRevoked },
      },
      at,
    );
    return c.body(null, 204);
  });

  router.openapi(changePasswordRoute, async (c) => {
    const principal = principalOf(c);
    // A leaked API key must not be enough to take over the account's password.
    if (principal.kind !== 'session') throw new ApiError('FORBIDDEN', 'Changing a password needs a signed-in session.');
    const { currentPassword, newPassword } = c.req.valid('json');
    const at = now();
    const db = createDb(c.env.DB);
    const [user] = await db.select().from(users).where(eq(users.id, principal.userId)).limit(1);
    if (!user) throw new ApiError('UNAUTHENTICATED');
    // The current password is guessable through this route too (with a stolen session), so
    // it shares the login lockout of the account.
    // Counted per session (not per address, which a stolen session can rotate) and per account.
    const throttleKeys = { account: await emailTag(user.email), client: { sessionId: principal.sessionId ?? principal.userId } };
    const lock = await throttle.attempt(c.env, throttleKeys, at);
    if (lock.locked) throw new ApiError('RATE_LIMITED', undefined, {}, { 'Retry-After': String(lock.retryAfterS) });
    const check = await verifyPassword(currentPassword, user.passwordHash ?? (await dummyPasswordHash()), argon2id);
    if (!check.ok) {
      await recordAudit(
        c.env,
        {
          workspaceId: user.workspaceId,
          kind: 'auth.login.failed',
          actor: `user:${user.id}`,
          data: { reason: 'wrong-password', emailHash: throttleKeys.account },
        },
        at,
      );
      throw new ApiError('INVALID_CREDENTIALS');
    }
    await throttle.succeeded(c.env, throttleKeys, lock.counted);
    if (checkPasswordPolicy(newPassword, user.email)) throw policyError();
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(newPassword, ARGON2_PARAMS, argon2id), updatedAt: at })
      .where(eq(users.id, user.id));
    const sessionsRevoked = await revokeUserSessions(db, user.id, at, principal.sessionId);
    // A password is usually changed because the account may be compromised; keys made by
    // whoever held it would survive the change, so they all go (docs/auth.md). The person
    // changing it is signed in and makes new keys as needed.
    const keysRevoked = await revokeUserApiKeys(db, user.id, at);
    await recordAudit(
      c.env,
      {
        workspaceId: user.workspaceId,
        kind: 'auth.password.changed',
        actor: `user:${user.id}`,
        data: { userId: user.id, sessionsRevoked, apiKeysRevoked: keysRevoked },
      },
      at,
    );
    return c.body(null, 204);
  });

  return router;
}
