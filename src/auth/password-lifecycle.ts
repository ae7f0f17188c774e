/**
 * The password lifecycle after sign-in, for the REST routes (routes/session-routes.ts) and the
 * dashboard alike: redeeming an invitation or a reset token, and changing one's own password.
 * Refusals are thrown as ApiError; the caller maps them to its surface.
 */
import { and, eq } from 'drizzle-orm';
import { recordAudit } from '../audit';
import { createDb, users, type OneTimeTokenPurpose } from '../db';
import type { Env } from '../env';
import { ApiError } from '../http';
import { consumeTokenStatement, findLiveToken, tokenIsLive } from './one-time-tokens';
import { ARGON2_PARAMS, dummyPasswordHash, hashPassword, verifyPassword, type Argon2id } from './passwords';
import { checkPasswordPolicy } from './password-policy';
import type { Principal } from './scopes';
import { revokeUserApiKeys, revokeUserSessions } from './sessions';
import type { SignInDeps } from './sign-in';
import { emailTag } from './tokens';

function policyError(): ApiError {
  return new ApiError('VALIDATION_ERROR', 'The password does not meet the policy.', { fields: ['password'] });
}

/** Shared by accept-invite and reset: validate first, then redeem atomically. */
async function redeem(
  d1: D1Database,
  purpose: OneTimeTokenPurpose,
  token: string,
  password: string,
  at: number,
  argon2id: Argon2id | undefined,
) {
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

/** Redeems an invitation: the invited user gets this password (token single-use, policy checked). */
export async function acceptInvite(
  env: Env,
  input: { token: string; password: string },
  deps: Pick<SignInDeps, 'now' | 'argon2id'>,
): Promise<void> {
  const { token, password } = input;
  const at = deps.now();
  const user = await redeem(env.DB, 'invite', token, password, at, deps.argon2id);
  await recordAudit(
    env,
    { workspaceId: user.workspaceId, kind: 'auth.invite.accepted', actor: `user:${user.id}`, data: { userId: user.id } },
    at,
  );
}

/** Redeems a password-reset token; revokes all of that user's sessions and the API keys they created. */
export async function resetPassword(
  env: Env,
  input: { token: string; newPassword: string },
  deps: Pick<SignInDeps, 'now' | 'argon2id'>,
): Promise<void> {
  const { token, newPassword } = input;
  const at = deps.now();
  const user = await redeem(env.DB, 'password-reset', token, newPassword, at, deps.argon2id);
  const db = createDb(env.DB);
  const sessionsRevoked = await revokeUserSessions(db, user.id, at);
  // Keys the user made may have been made by whoever held the account: a reset ends them too.
  const keysRevoked = await revokeUserApiKeys(db, user.id, at);
  await recordAudit(
    env,
    {
      workspaceId: user.workspaceId,
      kind: 'auth.password.reset',
      actor: `user:${user.id}`,
      data: { userId: user.id, sessionsRevoked, apiKeysRevoked: keysRevoked },
    },
    at,
  );
}

/**
 * Changes the caller's own password: a session only (a leaked API key must not take over the
 * account), the current password checked under the login lockout, the policy applied; the
 * caller's other sessions and every API key they created are revoked.
 */
export async function changePassword(
  env: Env,
  principal: Principal,
  input: { currentPassword: string; newPassword: string },
  deps: SignInDeps,
): Promise<void> {
  // A leaked API key must not be enough to take over the account's password.
  if (principal.kind !== 'session') throw new ApiError('FORBIDDEN', 'Changing a password needs a signed-in session.');
  const { currentPassword, newPassword } = input;
  const at = deps.now();
  const db = createDb(env.DB);
  const [user] = await db.select().from(users).where(eq(users.id, principal.userId)).limit(1);
  if (!user) throw new ApiError('UNAUTHENTICATED');
  // The current password is guessable through this route too (with a stolen session), so
  // it shares the login lockout of the account.
  // Counted per session (not per address, which a stolen session can rotate) and per account.
  const throttleKeys = { account: await emailTag(user.email), client: { sessionId: principal.sessionId ?? principal.userId } };
  const lock = await deps.throttle.attempt(env, throttleKeys, at);
  if (lock.locked) throw new ApiError('RATE_LIMITED', undefined, {}, { 'Retry-After': String(lock.retryAfterS) });
  const check = await verifyPassword(currentPassword, user.passwordHash ?? (await dummyPasswordHash()), deps.argon2id);
  if (!check.ok) {
    await recordAudit(
      env,
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
  await deps.throttle.succeeded(env, throttleKeys, lock.counted);
  if (checkPasswordPolicy(newPassword, user.email)) throw policyError();
  await db
    .update(users)
    .set({ passwordHash: await hashPassword(newPassword, ARGON2_PARAMS, deps.argon2id), updatedAt: at })
    .where(eq(users.id, user.id));
  const sessionsRevoked = await revokeUserSessions(db, user.id, at, principal.sessionId);
  // A password is usually changed because the account may be compromised; keys made by
  // whoever held it would survive the change, so they all go (docs/auth.md). The person
  // changing it is signed in and makes new keys as needed.
  const keysRevoked = await revokeUserApiKeys(db, user.id, at);
  await recordAudit(
    env,
    {
      workspaceId: user.workspaceId,
      kind: 'auth.password.changed',
      actor: `user:${user.id}`,
      data: { userId: user.id, sessionsRevoked, apiKeysRevoked: keysRevoked },
    },
    at,
  );
}
