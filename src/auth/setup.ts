import { INSTANCE_CHAIN, recordAudit } from '../audit';
import { newId } from '../db';
import type { Env } from '../env';
import { ApiError } from '../http';
import { hashPassword } from './passwords';
import { checkPasswordPolicy } from './password-policy';
import { userView } from './schemas';
import { timingSafeEqualText } from './tokens';

/** Whether first-time setup is still needed (no user exists yet). */
export async function setupNeeded(d1: D1Database): Promise<boolean> {
  return (await d1.prepare('SELECT 1 FROM users LIMIT 1').first()) === null;
}

/**
 * First-time setup, for the REST route and the dashboard alike. Decisions, in order
 * (refusals are thrown as ApiError; the caller maps them to its surface):
 * 1. a user already exists → 409 CONFLICT, whatever the token (setup happens once);
 * 2. SETUP_TOKEN unset → 503 (fail closed; the log says what to set);
 * 3. token differs (constant-time) → 401 INVALID_CREDENTIALS;
 * 4. password fails the policy → 400 VALIDATION_ERROR;
 * 5. create workspace and owner in one transaction that only inserts while no user exists,
 *    so two concurrent setups cannot both succeed; the loser gets 409.
 */
export async function runSetup(
  env: Env,
  input: { token: string; workspace: string; email: string; password: string; clientIp: string },
  now: () => number,
): Promise<{ workspace: { id: string; name: string }; user: ReturnType<typeof userView> }> {
  const at = now();
  const actor = `ip:${input.clientIp}`;
  const refuse = async (reason: 'already-done' | 'bad-token' | 'not-configured', error: ApiError) => {
    await recordAudit(env, { workspaceId: INSTANCE_CHAIN, kind: 'setup.refused', actor, data: { reason } }, at);
    throw error;
  };

  // 1.
  if (!(await setupNeeded(env.DB))) return refuse('already-done', new ApiError('CONFLICT', 'Setup has already been completed.'));
  // 2.
  const expected = env.SETUP_TOKEN;
  if (!expected) {
    console.error('setup refused: the SETUP_TOKEN secret is not set (wrangler secret put SETUP_TOKEN)');
    return refuse('not-configured', new ApiError('SERVICE_UNAVAILABLE', 'Setup is not configured on this deployment.'));
  }
  // 3.
  if (!timingSafeEqualText(input.token, expected)) return refuse('bad-token', new ApiError('INVALID_CREDENTIALS'));
  // 4.
  if (checkPasswordPolicy(input.password, input.email))
    throw new ApiError('VALIDATION_ERROR', 'The password does not meet the policy.', { fields: ['password'] });

  // 5.
  const workspace = { id: newId('ws'), name: input.workspace, createdAt: at };
  const user = {
    id: newId('usr'),
    workspaceId: workspace.id,
    email: input.email,
    role: 'owner' as const,
    isInstanceOwner: true,
    createdAt: at,
  };
  const passwordHash = await hashPassword(input.password);
  // Both inserts only apply while no user exists; a D1 batch is one transaction, so of two
  // concurrent setups exactly one inserts anything.
  const noUsersYet = 'where not exists (select 1 from users)';
  const [, userInsert] = await env.DB.batch([
    env.DB.prepare(`insert into workspaces (id, name, created_at) select ?, ?, ? ${noUsersYet}`).bind(workspace.id, workspace.name, at),
    env.DB.prepare(
      `insert into users (id, workspace_id, email, password_hash, role, is_instance_owner, created_at, updated_at)
       select ?, ?, ?, ?, 'owner', 1, ?, ? ${noUsersYet}`,
    ).bind(user.id, workspace.id, user.email, passwordHash, at, at),
  ]);
  if (!userInsert) throw new Error('setup batch returned no result');
  if (userInsert.meta.changes !== 1) return refuse('already-done', new ApiError('CONFLICT', 'Setup has already been completed.'));

  await recordAudit(
    env,
    { workspaceId: workspace.id, kind: 'setup.completed', actor: `user:${user.id}`, data: { workspaceId: workspace.id, userId: user.id } },
    at,
  );
  return { workspace: { id: workspace.id, name: workspace.name }, user: userView(user) };
}
