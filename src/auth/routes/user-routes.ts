import { z } from '@hono/zod-openapi';
import { createRouter, errorResponses, jsonBodyOf, valueOf } from '../../http';
import { principalOf } from '../authenticate';
import { Email, jsonContent, Role, UserView, WorkspaceName } from '../schemas';
import { SCOPES } from '../scopes';
import { secured, signedIn } from '../secured';
import { removeMember } from '../remove-member';
import { changeUserRole, createWorkspace, getMe, inviteUser, issuePasswordReset, listUsers } from '../users';
import type { Clock } from './clock';

const Me = z
  .object({ user: UserView, auth: z.object({ kind: z.enum(['session', 'api_key']), scopes: z.array(z.enum(SCOPES)) }) })
  .openapi('Me');
const UserList = z.object({ users: z.array(UserView) }).openapi('UserList');
const CreateUser = z.object({ email: Email, role: Role }).openapi('CreateUserRequest');
const Invitation = z.object({ user: UserView, inviteToken: z.string(), expiresAt: z.number().int() }).openapi('Invitation');
const ResetIssued = z.object({ resetToken: z.string(), expiresAt: z.number().int() }).openapi('PasswordResetIssued');
const ChangeRole = z.object({ role: Role }).openapi('ChangeRoleRequest');
const CreateWorkspace = z.object({ name: WorkspaceName, ownerEmail: Email }).openapi('CreateWorkspaceRequest');
const WorkspaceCreated = z
  .object({
    workspace: z.object({ id: z.string(), name: z.string() }),
    owner: UserView,
    inviteToken: z.string(),
    expiresAt: z.number().int(),
  })
  .openapi('WorkspaceCreated');
const UserId = z.object({ id: z.string().min(1).max(64) });

const body = jsonBodyOf;

const meRoute = secured(
  {
    method: 'get',
    path: '/api/v1/me',
    operationId: 'getMe',
    summary: 'The caller',
    responses: { 200: { description: 'The caller', ...jsonContent(Me) }, ...errorResponses(401) },
  },
  signedIn(),
);
const listUsersRoute = secured(
  {
    method: 'get',
    path: '/api/v1/users',
    operationId: 'listUsers',
    summary: 'Users of your workspace (scope admin)',
    responses: { 200: { description: 'Users', ...jsonContent(UserList) }, ...errorResponses(401, 403) },
  },
  signedIn('admin'),
);
const createUserRoute = secured(
  {
    method: 'post',
    path: '/api/v1/users',
    operationId: 'inviteUser',
    summary: 'Invite a user to your workspace (scope admin); the invitation token is shown once',
    request: body(CreateUser),
    responses: { 201: { description: 'Invited', ...jsonContent(Invitation) }, ...errorResponses(400, 401, 403, 409) },
  },
  signedIn('admin'),
);
const changeRoleRoute = secured(
  {
    method: 'patch',
    path: '/api/v1/users/{id}',
    operationId: 'changeUserRole',
    summary: 'Change a user’s role (scope admin)',
    request: { params: UserId, ...body(ChangeRole) },
    responses: { 200: { description: 'Updated', ...jsonContent(UserView) }, ...errorResponses(400, 401, 403, 404) },
  },
  signedIn('admin'),
);
const issueResetRoute = secured(
  {
    method: 'post',
    path: '/api/v1/users/{id}/password-reset',
    operationId: 'issuePasswordReset',
    summary: 'Issue a one-time password-reset token (scope admin); shown once',
    request: { params: UserId },
    responses: { 201: { description: 'Issued', ...jsonContent(ResetIssued) }, ...errorResponses(401, 403, 404) },
  },
  signedIn('admin'),
);
const removeMemberRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/members/{id}',
    operationId: 'removeMember',
    summary: 'Remove a member from your workspace (scope admin): their sessions end, their API keys and OAuth grants are revoked',
    request: { params: UserId },
    responses: { 204: { description: 'Removed' }, ...errorResponses(401, 403, 404, 409) },
  },
  signedIn('admin'),
);
const createWorkspaceRoute = secured(
  {
    method: 'post',
    path: '/api/v1/workspaces',
    operationId: 'createWorkspace',
    summary: 'Create a workspace and invite its owner (instance owner only)',
    request: body(CreateWorkspace),
    responses: { 201: { description: 'Created', ...jsonContent(WorkspaceCreated) }, ...errorResponses(400, 401, 403, 409) },
  },
  signedIn(),
);

/** Users, roles, invitations and workspaces (rules in ../users.ts): parse, call, map. */
export function userRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(meRoute, async (c) => c.json(valueOf(await getMe(c.env, principalOf(c))), 200));

  router.openapi(listUsersRoute, async (c) => c.json({ users: valueOf(await listUsers(c.env, principalOf(c))) }, 200));

  router.openapi(createUserRoute, async (c) => c.json(valueOf(await inviteUser(c.env, principalOf(c), c.req.valid('json'), now)), 201));

  router.openapi(changeRoleRoute, async (c) => {
    const input = { id: c.req.valid('param').id, role: c.req.valid('json').role };
    return c.json(valueOf(await changeUserRole(c.env, principalOf(c), input, now)), 200);
  });

  router.openapi(issueResetRoute, async (c) =>
    c.json(valueOf(await issuePasswordReset(c.env, principalOf(c), c.req.valid('param').id, now)), 201),
  );

  router.openapi(removeMemberRoute, async (c) => {
    valueOf(await removeMember(c.env, principalOf(c), c.req.valid('param').id, now));
    return c.body(null, 204);
  });

  router.openapi(createWorkspaceRoute, async (c) =>
    c.json(valueOf(await createWorkspace(c.env, principalOf(c), c.req.valid('json'), now)), 201),
  );

  return router;
}
