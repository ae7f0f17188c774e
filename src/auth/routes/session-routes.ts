import { z } from '@hono/zod-openapi';
import { deleteCookie } from 'hono/cookie';
import { createRouter, errorResponses, jsonBodyOf } from '../../http';
import { principalOf } from '../authenticate';
import type { LoginThrottle } from '../login-throttle';
import { acceptInvite, changePassword, resetPassword } from '../password-lifecycle';
import type { Argon2id } from '../passwords';
import { Email, jsonContent, Password, Token, UserView } from '../schemas';
import { SESSION_COOKIE_NAME } from '../sessions';
import { setSessionCookie, signIn, signOut } from '../sign-in';
import { PUBLIC, secured, signedIn } from '../secured';
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

/** Sign-in (decisions in ../sign-in.ts) and the password lifecycle (../password-lifecycle.ts), both shared with the dashboard. */
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

  router.openapi(acceptInviteRoute, async (c) => {
    await acceptInvite(c.env, c.req.valid('json'), { now, argon2id });
    return c.body(null, 204);
  });

  router.openapi(resetRoute, async (c) => {
    await resetPassword(c.env, c.req.valid('json'), { now, argon2id });
    return c.body(null, 204);
  });

  router.openapi(changePasswordRoute, async (c) => {
    await changePassword(c.env, principalOf(c), c.req.valid('json'), { now, throttle, argon2id });
    return c.body(null, 204);
  });

  return router;
}
