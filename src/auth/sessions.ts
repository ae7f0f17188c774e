import { and, eq, isNull, ne } from 'drizzle-orm';
import { apiKeys, newId, sessions, type Database } from '../db';
import { hashToken, randomToken } from './tokens';

/** Re-exported for the session routes; the one definition is src/lib/cookies.ts. */
export { SESSION_COOKIE_NAME } from '../lib';
export const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 7 * 24 * 60 * 60 * 1000;
/** last_seen_at is written at most this often, so reads do not become writes. */
const TOUCH_INTERVAL_MS = 60 * 1000;

export interface NewSession {
  id: string;
  token: string;
  csrfToken: string;
  expiresAt: number;
}

/** A fresh session with fresh tokens at every login (no fixation): only hashes are stored. */
export async function createSession(db: Database, user: { id: string; workspaceId: string }, now: number): Promise<NewSession> {
  const session = { id: newId('ses'), token: randomToken(), csrfToken: randomToken(), expiresAt: now + SESSION_ABSOLUTE_MS };
  await db.insert(sessions).values({
    id: session.id,
    tokenHash: await hashToken(session.token),
    csrfTokenHash: await hashToken(session.csrfToken),
    userId: user.id,
    workspaceId: user.workspaceId,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: session.expiresAt,
  });
  return session;
}

export type SessionLookup =
  { kind: 'valid'; id: string; userId: string; csrfTokenHash: string } | { kind: 'unknown' | 'revoked' | 'idle-expired' | 'expired' };

/** Finds a session by its token and applies idle (24 h) and absolute (7 d) expiry. */
export async function findSession(db: Database, token: string, now: number): Promise<SessionLookup> {
  const [row] = await db
    .select()
    .from(sessions)
    .where(eq(sessions.tokenHash, await hashToken(token)))
    .limit(1);
  if (!row) return { kind: 'unknown' };
  if (row.revokedAt !== null) return { kind: 'revoked' };
  if (now >= row.expiresAt) return { kind: 'expired' };
  if (now - row.lastSeenAt >= SESSION_IDLE_MS) return { kind: 'idle-expired' };
  if (now - row.lastSeenAt >= TOUCH_INTERVAL_MS) {
    await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, row.id));
  }
  return { kind: 'valid', id: row.id, userId: row.userId, csrfTokenHash: row.csrfTokenHash };
}

export async function revokeSession(db: Database, sessionId: string, now: number): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}

/** Revokes every live session of a user, except `keepSessionId` when given; returns how many. */
export async function revokeUserSessions(db: Database, userId: string, now: number, keepSessionId?: string): Promise<number> {
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)];
  if (keepSessionId) conditions.push(ne(sessions.id, keepSessionId));
  const revoked = await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(...conditions))
    .returning({ id: sessions.id });
  return revoked.length;
}

/**
 * Revokes every live API key the user created; returns their ids. Keys made while someone
 * else held the account outlive a password change unless they go with it.
 */
export async function revokeUserApiKeys(db: Database, userId: string, now: number): Promise<string[]> {
  const revoked = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.createdBy, userId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return revoked.map((row) => row.id);
}
