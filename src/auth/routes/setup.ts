import { z } from '@hono/zod-openapi';
import { INSTANCE_CHAIN, recordAudit } from '../../audit';
import { newId } from '../../db';
import { ApiError, createRouter, errorResponses } from '../../http';
import { hashPassword } from '../passwords';
import { checkPasswordPolicy } from '../password-policy';
import { Email, jsonContent, Password, Token, UserView, userView, WorkspaceName } from '../schemas';
import { PUBLIC, secured } from '../secured';
import { timingSafeEqualText } from '../tokens';
import type { Clock } from './clock';

const SetupStatus = z.object({ needed: z.boolean() }).openapi('SetupStatus');
const SetupRequest = z.object({ token: Token, workspace: WorkspaceName, email: Email, password: Password }).openapi('SetupRequest');
const SetupResult = z.object({ workspace: z.object({ id: z.string(), name: z.string() }), user: UserView }).openapi('SetupResult');

const getSetup = secured(
  {
    method: 'get',
    path: '/api/v1/setup',
    operationId: 'getSetupStatus',
    summary: 'Whether first-time setup is still needed',
    responses: { 200: { description: 'Setup status', ...jsonContent(SetupStatus) } },
  },
  PUBLIC,
);

const postSetup = secured(
  {
    method: 'post',
    path: '/api/v1/setup',
    operationId: 'runSetup',
    summary: 'First-time setup: create the first workspace and its owner (needs SETUP_TOKEN)',
    request: { body: { required: true, ...jsonContent(SetupRequest) } },
    responses: {
      201: { description: 'Created', ...jsonContent(SetupResult) },
      ...errorResponses(400, 401, 409, 503),
    },
  },
  PUBLIC,
);

async function setupDone(d1: D1Database): Promise<boolean> {
  return (await d1.prepare('SELECT 1 FROM users LIMIT 1').first()) !== null;
}

/**
 * Setup decisions, in order:
 * 1. a user already exists → 409 CONFLICT, whatever the token (setup happens once);
 * 2. SETUP_TOKEN unset → 503 (fail closed; the log says what to set);
 * 3. token differs (constant-time) → 401 INVALID_CREDENTIALS;
 * 4. password fails the policy → 400 VALIDATION_ERROR;
 * 5. create workspace and owner in one transaction that only inserts while no user exists,
 *    so two concurrent setups cannot both succeed → 201; the loser gets 409.
 */
export function setupRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(getSetup, async (c) => c.json({ needed: !(await setupDone(c.env.DB)) }, 200));

  router.openapi(postSetup, async (c) => {
    const body = c.req.valid('json');
    const at = now();
    const actor = `ip:${c.get('clientIp')}`;
    const refuse = async (reason: 'already-done' | 'bad-token' | 'not-configured', error: ApiError) => {
      await recordAudit(c.env, { workspaceId: INSTANCE_CHAIN, kind: 'setup.refused', actor, data: { reason } }, at);
      throw error;
    };

    if (await setupDone(c.env.DB)) return refuse('already-done', new ApiError('CONFLICT', 'Setup has already been completed.'));
    const expected = c.env.SETUP_TOKEN;
    if (!expected) {
      console.error('setup refused: the SETUP_TOKEN secret is not set (wrangler secret put SETUP_TOKEN)');
      return refuse('not-configured', new ApiError('SERVICE_UNAVAILABLE', 'Setup is not configured on this deployment.'));
    }
    if (!timingSafeEqualText(body.token, expected)) return refuse('bad-token', new ApiError('INVALID_CREDENTIALS'));
    if (checkPasswordPolicy(body.password, body.email))
      throw new ApiError('VALIDATION_ERROR', 'The password does not meet the policy.', { fields: ['password'] });

    const workspace = { id: newId('ws'), name: body.workspace, createdAt: at };
    const user = {
      id: newId('usr'),
      workspaceId: workspace.id,
      email: body.email,
      role: 'owner' as const,
      isInstanceOwner: true,
      createdAt: at,
    };
    const passwordHash = await hashPassword(body.password);
    // Both inserts only apply while no user exists; a D1 batch is one transaction, so of two
    // concurrent setups exactly one inserts anything.
    const noUsersYet = 'where not exists (select 1 from users)';
    const [, userInsert] = await c.env.DB.batch([
      c.env.DB.prepare(`insert into workspaces (id, name, created_at) select ?, ?, ? ${noUsersYet}`).bind(workspace.id, workspace.name, at),
      c.env.DB.prepare(
        `insert into users (id, workspace_id, email, password_hash, role, is_instance_owner, created_at, updated_at)
         select ?, ?, ?, ?, 'owner', 1, ?, ? ${noUsersYet}`,
      ).bind(user.id, workspace.id, user.email, passwordHash, at, at),
    ]);
    if (!userInsert) throw new Error('setup batch returned no result');
    if (userInsert.meta.changes !== 1) return refuse('already-done', new ApiError('CONFLICT', 'Setup has already been completed.'));

    await recordAudit(
      c.env,
      {
        workspaceId: workspace.id,
        kind: 'setup.completed',
        actor: `user:${user.id}`,
        data: { workspaceId: workspace.id, userId: user.id },
      },
      at,
    );
    return c.json({ workspace: { id: workspace.id, name: workspace.name }, user: userView(user) }, 201);
  });

  return router;
}
