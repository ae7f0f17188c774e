import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import { INSTANCE_CHAIN, recordAudit } from '../audit';
import { createDb, users } from '../db';
import type { AppEnv, Env } from '../env';
import { ApiError } from '../http';
import type { LoginThrottle } from './login-throttle';
import { ARGON2_PARAMS, dummyPasswordHash, hashPassword, verifyPassword, type Argon2id } from './passwords';
import { userView } from './schemas';
import type { Principal } from './scopes';
import { createSession, revokeSession, SESSION_ABSOLUTE_MS, SESSION_COOKIE_NAME, type NewSession } from './sessions';
import { emailTag } from './tokens';

export interface SignInDeps {
  now: () => number;
  throttle: LoginThrottle;
  argon2id?: Argon2id | undefined;
}

/**
 * Sign-in with email and password, for the REST route and the dashboard alike. Decisions, in
 * order (refusals are thrown as ApiError; the caller maps them to its surface):
 * 1. locked out → 429 with Retry-After, no Argon2id: 1a this address used its 10 failures
 *    for this account (email, known or not), or 1b the account its 100 over all addresses
 *    (login-throttle.ts);
 * 2. unknown email, or a user without a password yet → Argon2id against a dummy hash, then
 *    the same 401 INVALID_CREDENTIALS as a wrong password (same body, same work);
 * 3. wrong password → 401 INVALID_CREDENTIALS, one failure counted;
 * 4. right password → new session (fresh tokens), rehash if parameters were raised.
 */
export async function signIn(
  env: Env,
  input: { email: string; password: string; clientIp: string },
  deps: SignInDeps,
): Promise<{ user: ReturnType<typeof userView>; session: NewSession }> {
  const { email, password } = input;
  const at = deps.now();
  const db = createDb(env.DB);
  const accountKey = await emailTag(email);
  const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  const chain = user?.workspaceId ?? INSTANCE_CHAIN;
  const actor = `ip:${input.clientIp}`;
  const fail = async (reason: 'unknown-email' | 'wrong-password' | 'no-password' | 'locked-out') => {
    await recordAudit(env, { workspaceId: chain, kind: 'auth.login.failed', actor, data: { reason, emailHash: accountKey } }, at);
  };

  // 1.
  const throttleKeys = { account: accountKey, client: { ip: input.clientIp } };
  const lock = await deps.throttle.attempt(env, throttleKeys, at);
  if (lock.locked) {
    await fail('locked-out');
    throw new ApiError('RATE_LIMITED', undefined, {}, { 'Retry-After': String(lock.retryAfterS) });
  }

  // 2.–3.
  const check = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()), deps.argon2id);
  if (!user || !user.passwordHash || !check.ok) {
    await fail(!user ? 'unknown-email' : !user.passwordHash ? 'no-password' : 'wrong-password');
    throw new ApiError('INVALID_CREDENTIALS');
  }

  // 4.
  await deps.throttle.succeeded(env, throttleKeys, lock.counted);
  if (check.needsRehash) {
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(password, ARGON2_PARAMS, deps.argon2id), updatedAt: at })
      .where(eq(users.id, user.id));
  }
  const session = await createSession(db, user, at);
  await recordAudit(
    env,
    { workspaceId: chain, kind: 'auth.login.succeeded', actor: `user:${user.id}`, data: { userId: user.id, sessionId: session.id } },
    at,
  );
  return { user: userView(user), session };
}

/** The session cookie: `__Host-` (Secure, Path=/, no Domain), HttpOnly, SameSite=Lax, for the session's absolute lifetime. */
export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  setCookie(c, SESSION_COOKIE_NAME, token, {
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    path: '/',
    maxAge: Math.floor(SESSION_ABSOLUTE_MS / 1000),
    prefix: 'host',
  });
}

/** Ends the caller's session (sign-out); an API key has no session to end → 403 FORBIDDEN. */
export async function signOut(env: Env, principal: Principal, now: () => number): Promise<void> {
  if (principal.kind !== 'session' || !principal.sessionId)
    throw new ApiError('FORBIDDEN', 'Log out applies to sessions; revoke an API key instead.');
  const at = now();
  await revokeSession(createDb(env.DB), principal.sessionId, at);
  await recordAudit(
    env,
    {
      workspaceId: principal.workspaceId,
      kind: 'auth.logout',
      actor: `user:${principal.userId}`,
      data: { userId: principal.userId, sessionId: principal.sessionId },
    },
    at,
  );
}
