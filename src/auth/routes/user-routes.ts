import { z } from '@hono/zod-openapi';
import { and, asc, eq, sql } from 'drizzle-orm';
import { recordAudit } from '../../audit';
import { createDb, newId, users, workspaces, type Role as RoleName } from '../../db';
import { ApiError, createRouter, errorResponses, jsonBodyOf } from '../../http';
import { principalOf } from '../authenticate';
import { issueOneTimeToken } from '../one-time-tokens';
import { Email, jsonContent, Role, UserView, userView, WorkspaceName } from '../schemas';
import { actorOfPrincipal, ROLE_RANK, SCOPES, type Principal } from '../scopes';
import { secured, signedIn } from '../secured';
import type { Clock } from './clock';

const Me = z.object({ user: UserView, auth: z.object({ kind: z.enum(['session', 'api_key']), scopes: z.array(z.enum(SCOPES)) }) }).openapi('Me');
const UserList = z.object({ users: z.array(UserView) }).openapi('UserList');
const CreateUser = z.object({ email: Email, role: Role }).openapi('CreateUserRequest');
const Invitation = z.object({ user: UserView, inviteToken: z.string(), expiresAt: z.number().int() }).openapi('Invitation');
const ResetIssued = z.object({ resetToken: z.string(), expiresAt: z.number().int() }).openapi('PasswordResetIssued');
const ChangeRole = z.object({ role: Role }).openapi('ChangeRoleRequest');
const CreateWorkspace = z.object({ name: WorkspaceName, ownerEmail: Email }).openapi('CreateWorkspaceRequest');
const WorkspaceCreated = z
  .object({ workspace: z.object({ id: z.string(), name: z.string() }), owner: UserView, inviteToken: z.string(), expiresAt: z.number().int() })
  .openapi('WorkspaceCreated');
const UserId = z.object({ id: z.string().min(1).max(64) });

const body = jsonBodyOf;

const meRoute = secured({ method: 'get', path: '/api/v1/me', operationId: 'getMe', summary: 'The caller', responses: { 200: { description: 'The caller', ...jsonContent(Me) }, ...errorResponses(401) } }, signedIn());
const listUsersRoute = secured({ method: 'get', path: '/api/v1/users', operationId: 'listUsers', summary: 'Users of your workspace (scope admin)', responses: { 200: { description: 'Users', ...jsonContent(UserList) }, ...errorResponses(401, 403) } }, signedIn('admin'));
const createUserRoute = secured({
  method: 'post',
  path: '/api/v1/users',
  operationId: 'inviteUser',
  summary: 'Invite a user to your workspace (scope admin); the invitation token is shown once',
  request: body(CreateUser),
  responses: { 201: { description: 'Invited', ...jsonContent(Invitation) }, ...errorResponses(400, 401, 403, 409) },
}, signedIn('admin'));
const changeRoleRoute = secured({
  method: 'patch',
  path: '/api/v1/users/{id}',
  operationId: 'changeUserRole',
  summary: 'Change a user’s role (scope admin)',
  request: { params: UserId, ...body(ChangeRole) },
  responses: { 200: { description: 'Updated', ...jsonContent(UserView) }, ...errorResponses(400, 401, 403, 404) },
}, signedIn('admin'));
const issueResetRoute = secured({
  method: 'post',
  path: '/api/v1/users/{id}/password-reset',
  operationId: 'issuePasswordReset',
  summary: 'Issue a one-time password-reset token (scope admin); shown once',
  request: { params: UserId },
  responses: { 201: { description: 'Issued', ...jsonContent(ResetIssued) }, ...errorResponses(401, 403, 404) },
}, signedIn('admin'));
const createWorkspaceRoute = secured({
  method: 'post',
  path: '/api/v1/workspaces',
  operationId: 'createWorkspace',
  summary: 'Create a workspace and invite its owner (instance owner only)',
  request: body(CreateWorkspace),
  responses: { 201: { description: 'Created', ...jsonContent(WorkspaceCreated) }, ...errorResponses(400, 401, 403, 409) },
}, signedIn());

/**
 * Whether the caller may change or reset another user, in order:
 * 1. nobody manages themselves → no;
 * 2. nobody manages the instance owner → no;
 * 3. the instance owner manages anyone else in their workspace → yes;
 * 4. otherwise only a strictly higher rank → yes (two owners cannot demote or reset each other);
 * 5. else no.
 */
function mayManage(principal: Principal, target: { id: string; role: RoleName; isInstanceOwner: boolean }): boolean {
  if (target.id === principal.userId) return false;
  if (target.isInstanceOwner) return false;
  if (principal.isInstanceOwner) return true;
  return ROLE_RANK[principal.role] > ROLE_RANK[target.role];
}

function isUniqueViolation(error: unknown): boolean {
  return String(error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : error).includes('UNIQUE constraint failed');
}

/** Users, roles, invitations and workspaces. Another workspace's user answers 404. */
export function userRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(meRoute, async (c) => {
    const principal = principalOf(c);
    const [user] = await createDb(c.env.DB).select().from(users).where(eq(users.id, principal.userId)).limit(1);
    if (!user) throw new ApiError('UNAUTHENTICATED');
    return c.json({ user: userView(user), auth: { kind: principal.kind, scopes: [...principal.scopes] } }, 200);
  });

  router.openapi(listUsersRoute, async (c) => {
    const principal = principalOf(c);
    const rows = await createDb(c.env.DB).select().from(users).where(eq(users.workspaceId, principal.workspaceId)).orderBy(asc(users.createdAt));
    return c.json({ users: rows.map(userView) }, 200);
  });

  router.openapi(createUserRoute, async (c) => {
    const principal = principalOf(c);
    const { email, role } = c.req.valid('json');
    if (ROLE_RANK[role] > ROLE_RANK[principal.role]) throw new ApiError('FORBIDDEN', 'You cannot grant a role above your own.');
    const at = now();
    const db = createDb(c.env.DB);
    const user = { id: newId('usr'), workspaceId: principal.workspaceId, email, role, isInstanceOwner: false, createdAt: at, updatedAt: at };
    try {
      await db.insert(users).values(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError('CONFLICT', 'A user with that email already exists.');
      throw error;
    }
    const invite = await issueOneTimeToken(db, 'invite', user, at);
    await recordAudit(c.env, { workspaceId: user.workspaceId, kind: 'auth.invite.issued', actor: actorOfPrincipal(principal), data: { userId: user.id, role, expiresAt: invite.expiresAt } }, at);
    return c.json({ user: userView(user), inviteToken: invite.token, expiresAt: invite.expiresAt }, 201);
  });

  router.openapi(changeRoleRoute, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid('param');
    const { role } = c.req.valid('json');
    const db = createDb(c.env.DB);
    const [target] = await db.select().from(users).where(and(eq(users.id, id), eq(users.workspaceId, principal.workspaceId))).limit(1);
    if (!target) throw new ApiError('NOT_FOUND');
    if (!mayManage(principal, target) || ROLE_RANK[role] > ROLE_RANK[principal.role]) throw new ApiError('FORBIDDEN');
    const at = now();
    // Conditional on both roles being what was just checked: of two concurrent changes
    // (two owners demoting each other) only one can apply.
    const [changed] = await db.batch([
      db
        .update(users)
        .set({ role, updatedAt: at })
        .where(and(eq(users.id, target.id), eq(users.role, target.role), sql`exists (select 1 from users where id = ${principal.userId} and role = ${principal.role})`))
        .returning({ id: users.id }),
    ]);
    if (changed.length !== 1) throw new ApiError('CONFLICT', 'The role changed meanwhile; reload and try again.');
    await recordAudit(c.env, { workspaceId: target.workspaceId, kind: 'user.role.changed', actor: actorOfPrincipal(principal), data: { userId: target.id, from: target.role, to: role } }, at);
    return c.json(userView({ ...target, role }), 200);
  });

  router.openapi(issueResetRoute, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid('param');
    const db = createDb(c.env.DB);
    const [target] = await db.select().from(users).where(and(eq(users.id, id), eq(users.workspaceId, principal.workspaceId))).limit(1);
    if (!target) throw new ApiError('NOT_FOUND');
    // A reset token is a way into an account: only a signed-in person issues one, never for
    // themselves (that is /auth/password, which needs the current password), and only for
    // someone they outrank.
    if (principal.kind !== 'session' || !mayManage(principal, target)) throw new ApiError('FORBIDDEN');
    const at = now();
    const reset = await issueOneTimeToken(db, 'password-reset', target, at);
    await recordAudit(c.env, { workspaceId: target.workspaceId, kind: 'auth.reset.issued', actor: actorOfPrincipal(principal), data: { userId: target.id, expiresAt: reset.expiresAt } }, at);
    return c.json({ resetToken: reset.token, expiresAt: reset.expiresAt }, 201);
  });

  router.openapi(createWorkspaceRoute, async (c) => {
    const principal = principalOf(c);
    // The instance owner acting through a session, or through a key that holds `admin`.
    if (!principal.isInstanceOwner || !principal.scopes.has('admin')) throw new ApiError('FORBIDDEN');
    const { name, ownerEmail } = c.req.valid('json');
    const at = now();
    const db = createDb(c.env.DB);
    const workspace = { id: newId('ws'), name, createdAt: at };
    const owner = { id: newId('usr'), workspaceId: workspace.id, email: ownerEmail, role: 'owner' as const, isInstanceOwner: false, createdAt: at, updatedAt: at };
    try {
      await db.batch([db.insert(workspaces).values(workspace), db.insert(users).values(owner)]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError('CONFLICT', 'A user with that email already exists.');
      throw error;
    }
    const invite = await issueOneTimeToken(db, 'invite', owner, at);
    await recordAudit(c.env, { workspaceId: principal.workspaceId, kind: 'workspace.created', actor: actorOfPrincipal(principal), data: { workspaceId: workspace.id, name } }, at);
    await recordAudit(c.env, { workspaceId: workspace.id, kind: 'auth.invite.issued', actor: actorOfPrincipal(principal), data: { userId: owner.id, role: 'owner', expiresAt: invite.expiresAt } }, at);
    return c.json({ workspace: { id: workspace.id, name }, owner: userView(owner), inviteToken: invite.token, expiresAt: invite.expiresAt }, 201);
  });

  return router;
}
