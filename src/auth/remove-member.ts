import { and, eq, isNull, sql } from 'drizzle-orm';
import { recordAudit } from '../audit';
import { apiKeys, createDb, oauthGrants, sessions, users } from '../db';
import { done, refused, type Outcome } from '../http';
import type { Clock } from './routes/clock';
import { actorOfPrincipal, type Principal } from './scopes';
import { mayManage, userInWorkspace, type UserBindings } from './users';

export interface MemberRemoved {
  userId: string;
  sessionsRevoked: number;
  apiKeysRevoked: string[];
  oauthGrantsRevoked: number;
}

/**
 * Removes a member from the caller's workspace (docs/auth.md "Removing a member"), in order:
 * 1. not a member of the caller's workspace → not-found (another workspace's id looks missing);
 * 2. mayManage refuses (themselves, the instance owner, an equal or higher rank) → forbidden;
 * 3. in one D1 transaction, each statement conditional on what 1–2 checked (the target's role
 *    and the caller's are unchanged) and on the workspace keeping another owner: end the
 *    member's sessions, delete the user (sessions and one-time tokens go with it by foreign
 *    key), then revoke the API keys they created and their OAuth grants, which reference the
 *    user by id only. If the conditions no longer hold nothing applies → conflict.
 * Key rows stay (revoked) so the keys page and the audit trail still name them.
 */
export async function removeMember(env: UserBindings, actor: Principal, id: string, now: Clock): Promise<Outcome<MemberRemoved>> {
  const target = await userInWorkspace(env, actor.workspaceId, id);
  if (!target) return refused({ kind: 'not-found' });
  if (!mayManage(actor, target)) return refused({ kind: 'forbidden' });
  const at = now();
  const db = createDb(env.DB);
  // The same checks as removal itself, evaluated inside the transaction: the target still
  // holds the role that was checked, the caller still holds theirs, and an owner is removed
  // only while the workspace has another owner (a workspace without an owner has nobody who
  // can manage its admins).
  const stillAllowed = sql`exists (select 1 from users t where t.id = ${target.id} and t.workspace_id = ${actor.workspaceId}
      and t.role = ${target.role})
    and exists (select 1 from users a where a.id = ${actor.userId} and a.role = ${actor.role})
    and (${target.role} <> 'owner' or exists (select 1 from users o where o.workspace_id = ${actor.workspaceId}
      and o.role = 'owner' and o.id <> ${target.id}))`;
  const gone = sql`not exists (select 1 from users where id = ${target.id})`;
  const [revokedSessions, deleted, revokedKeys, revokedGrants] = await db.batch([
    db
      .update(sessions)
      .set({ revokedAt: at })
      .where(and(eq(sessions.userId, target.id), isNull(sessions.revokedAt), stillAllowed))
      .returning({ id: sessions.id }),
    db
      .delete(users)
      .where(and(eq(users.id, target.id), stillAllowed))
      .returning({ id: users.id }),
    db
      .update(apiKeys)
      .set({ revokedAt: at })
      .where(and(eq(apiKeys.createdBy, target.id), eq(apiKeys.workspaceId, actor.workspaceId), isNull(apiKeys.revokedAt), gone))
      .returning({ id: apiKeys.id }),
    db
      .update(oauthGrants)
      .set({ revokedAt: at })
      .where(and(eq(oauthGrants.userId, target.id), eq(oauthGrants.workspaceId, actor.workspaceId), isNull(oauthGrants.revokedAt), gone))
      .returning({ id: oauthGrants.id }),
  ]);
  if (deleted.length !== 1) {
    return refused({ kind: 'conflict', message: 'The member changed meanwhile, or is the last owner; reload and try again.' });
  }
  const removed = {
    userId: target.id,
    sessionsRevoked: revokedSessions.length,
    apiKeysRevoked: revokedKeys.map((row) => row.id),
    oauthGrantsRevoked: revokedGrants.length,
  };
  await recordAudit(
    env,
    { workspaceId: actor.workspaceId, kind: 'user.removed', actor: actorOfPrincipal(actor), data: { ...removed, role: target.role } },
    at,
  );
  return done(removed);
}
