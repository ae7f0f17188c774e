import { and, asc, eq, sql } from 'drizzle-orm';
import { recordAudit, type AuditBindings } from '../audit';
import { createDb, newId, users, workspaces, type Role } from '../db';
import type { Env } from '../env';
import { done, refused, type Outcome } from '../http';
import { issueOneTimeToken } from './one-time-tokens';
import type { Clock } from './routes/clock';
import { userView } from './schemas';
import { actorOfPrincipal, ROLE_RANK, type Principal, type Scope } from './scopes';

/**
 * Users, roles, invitations and workspaces as domain functions ((env, actor, input, clock) →
 * Outcome), testable without HTTP. Another workspace's user is not-found, like a missing one.
 */
export type UserBindings = Pick<Env, 'DB'> & AuditBindings;
export type UserViewValue = ReturnType<typeof userView>;

const EMAIL_TAKEN = { kind: 'conflict', message: 'A user with that email already exists.' } as const;

/**
 * Whether the caller may change or reset another user, in order:
 * 1. nobody manages themselves → no;
 * 2. nobody manages the instance owner → no;
 * 3. the instance owner manages anyone else in their workspace → yes;
 * 4. otherwise only a strictly higher rank → yes (two owners cannot demote or reset each other);
 * 5. else no.
 */
export function mayManage(principal: Principal, target: { id: string; role: Role; isInstanceOwner: boolean }): boolean {
  if (target.id === principal.userId) return false;
  if (target.isInstanceOwner) return false;
  if (principal.isInstanceOwner) return true;
  return ROLE_RANK[principal.role] > ROLE_RANK[target.role];
}

function isUniqueViolation(error: unknown): boolean {
  return String(error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : error).includes('UNIQUE constraint failed');
}

export async function userInWorkspace(env: UserBindings, workspaceId: string, id: string) {
  const [row] = await createDb(env.DB)
    .select()
    .from(users)
    .where(and(eq(users.id, id), eq(users.workspaceId, workspaceId)))
    .limit(1);
  return row;
}

export async function getMe(
  env: UserBindings,
  actor: Principal,
): Promise<Outcome<{ user: UserViewValue; auth: { kind: Principal['kind']; scopes: Scope[] } }>> {
  const [user] = await createDb(env.DB).select().from(users).where(eq(users.id, actor.userId)).limit(1);
  if (!user) return refused({ kind: 'unauthenticated' });
  return done({ user: userView(user), auth: { kind: actor.kind, scopes: [...actor.scopes] } });
}

export async function listUsers(env: UserBindings, actor: Principal): Promise<Outcome<UserViewValue[]>> {
  const rows = await createDb(env.DB).select().from(users).where(eq(users.workspaceId, actor.workspaceId)).orderBy(asc(users.createdAt));
  return done(rows.map(userView));
}

export async function inviteUser(
  env: UserBindings,
  actor: Principal,
  input: { email: string; role: Role },
  now: Clock,
): Promise<Outcome<{ user: UserViewValue; inviteToken: string; expiresAt: number }>> {
  const { email, role } = input;
  if (ROLE_RANK[role] > ROLE_RANK[actor.role]) return refused({ kind: 'forbidden', message: 'You cannot grant a role above your own.' });
  const at = now();
  const db = createDb(env.DB);
  const user = { id: newId('usr'), workspaceId: actor.workspaceId, email, role, isInstanceOwner: false, createdAt: at, updatedAt: at };
  try {
    await db.insert(users).values(user);
  } catch (error) {
    if (isUniqueViolation(error)) return refused(EMAIL_TAKEN);
    throw error;
  }
  const invite = await issueOneTimeToken(db, 'invite', user, at);
  await recordAudit(
    env,
    {
      workspaceId: user.workspaceId,
      kind: 'auth.invite.issued',
      actor: actorOfPrincipal(actor),
      data: { userId: user.id, role, expiresAt: invite.expiresAt },
    },
    at,
  );
  return done({ user: userView(user), inviteToken: invite.token, expiresAt: invite.expiresAt });
}

export async function changeUserRole(
  env: UserBindings,
  actor: Principal,
  input: { id: string; role: Role },
  now: Clock,
): Promise<Outcome<UserViewValue>> {
  const { id, role } = input;
  const target = await userInWorkspace(env, actor.workspaceId, id);
  if (!target) return refused({ kind: 'not-found' });
  if (!mayManage(actor, target) || ROLE_RANK[role] > ROLE_RANK[actor.role]) return refused({ kind: 'forbidden' });
  const at = now();
  const db = createDb(env.DB);
  // Conditional on both roles being what was just checked: of two concurrent changes
  // (two owners demoting each other) only one can apply.
  const [changed] = await db.batch([
    db
      .update(users)
      .set({ role, updatedAt: at })
      .where(
        and(
          eq(users.id, target.id),
          eq(users.role, target.role),
          sql`exists (select 1 from users where id = ${actor.userId} and role = ${actor.role})`,
        ),
      )
      .returning({ id: users.id }),
  ]);
  if (changed.length !== 1) return refused({ kind: 'conflict', message: 'The role changed meanwhile; reload and try again.' });
  await recordAudit(
    env,
    {
      workspaceId: target.workspaceId,
      kind: 'user.role.changed',
      actor: actorOfPrincipal(actor),
      data: { userId: target.id, from: target.role, to: role },
    },
    at,
  );
  return done(userView({ ...target, role }));
}

export async function issuePasswordReset(
  env: UserBindings,
  actor: Principal,
  id: string,
  now: Clock,
): Promise<Outcome<{ resetToken: string; expiresAt: number }>> {
  const target = await userInWorkspace(env, actor.workspaceId, id);
  if (!target) return refused({ kind: 'not-found' });
  // A reset token is a way into an account: only a signed-in person issues one, never for
  // themselves (that is /auth/password, which needs the current password), and only for
  // someone they outrank.
  if (actor.kind !== 'session' || !mayManage(actor, target)) return refused({ kind: 'forbidden' });
  const at = now();
  const reset = await issueOneTimeToken(createDb(env.DB), 'password-reset', target, at);
  await recordAudit(
    env,
    {
      workspaceId: target.workspaceId,
      kind: 'auth.reset.issued',
      actor: actorOfPrincipal(actor),
      data: { userId: target.id, expiresAt: reset.expiresAt },
    },
    at,
  );
  return done({ resetToken: reset.token, expiresAt: reset.expiresAt });
}

export async function createWorkspace(
  env: UserBindings,
  actor: Principal,
  input: { name: string; ownerEmail: string },
  now: Clock,
): Promise<Outcome<{ workspace: { id: string; name: string }; owner: UserViewValue; inviteToken: string; expiresAt: number }>> {
  // The instance owner acting through a session, or through a key that holds `admin`.
  if (!actor.isInstanceOwner || !actor.scopes.has('admin')) return refused({ kind: 'forbidden' });
  const { name, ownerEmail } = input;
  const at = now();
  const db = createDb(env.DB);
  const workspace = { id: newId('ws'), name, createdAt: at };
  const owner = {
    id: newId('usr'),
    workspaceId: workspace.id,
    email: ownerEmail,
    role: 'owner' as const,
    isInstanceOwner: false,
    createdAt: at,
    updatedAt: at,
  };
  try {
    await db.batch([db.insert(workspaces).values(workspace), db.insert(users).values(owner)]);
  } catch (error) {
    if (isUniqueViolation(error)) return refused(EMAIL_TAKEN);
    throw error;
  }
  const invite = await issueOneTimeToken(db, 'invite', owner, at);
  await recordAudit(
    env,
    {
      workspaceId: actor.workspaceId,
      kind: 'workspace.created',
      actor: actorOfPrincipal(actor),
      data: { workspaceId: workspace.id, name },
    },
    at,
  );
  await recordAudit(
    env,
    {
      workspaceId: workspace.id,
      kind: 'auth.invite.issued',
      actor: actorOfPrincipal(actor),
      data: { userId: owner.id, role: 'owner', expiresAt: invite.expiresAt },
    },
    at,
  );
  return done({ workspace: { id: workspace.id, name }, owner: userView(owner), inviteToken: invite.token, expiresAt: invite.expiresAt });
}
