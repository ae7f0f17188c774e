import { and, desc, eq, isNull } from 'drizzle-orm';
import { recordAudit, type AuditBindings } from '../audit';
import { apiKeys, createDb, newId } from '../db';
import type { Env } from '../env';
import { done, refused, type Outcome } from '../http';
import { apiKeyDisplayParts, generateApiKey } from './api-key-format';
import type { Clock } from './routes/clock';
import { actorOfPrincipal, exclusiveScopeConflict, type Principal, type Scope } from './scopes';
import { hashToken } from './tokens';

/**
 * Scoped API keys as domain functions ((env, actor, input, clock) → Outcome), so the rules
 * are testable without HTTP. A key never gets more than its creator has (checked here at
 * creation, and again at every use against the creator's current role). Creating keys with
 * a key needs `admin`, so a leaked narrow key cannot mint itself a sibling.
 */
export type ApiKeyBindings = Pick<Env, 'DB'> & AuditBindings;

const DAY_MS = 24 * 60 * 60 * 1000;

type KeyRow = typeof apiKeys.$inferSelect;
export type ApiKeyView = ReturnType<typeof keyView>;

function keyView(row: KeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    last4: row.last4,
    scopes: row.scopes,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}

/** The new key is in `key`, shown once. */
export async function createApiKey(
  env: ApiKeyBindings,
  actor: Principal,
  input: { name: string; scopes: Scope[]; expiresInDays?: number | undefined },
  now: Clock,
): Promise<Outcome<ApiKeyView & { key: string }>> {
  const { name, scopes, expiresInDays } = input;
  if (actor.kind === 'api_key' && !actor.scopes.has('admin')) return refused({ kind: 'forbidden' });
  if (!scopes.every((scope) => actor.scopes.has(scope)))
    return refused({ kind: 'forbidden', message: 'A key cannot have scopes you do not have.' });
  // The key that calls tools must never be the key that approves the calls (scopes.ts).
  if (exclusiveScopeConflict(scopes))
    return refused({ kind: 'invalid', message: 'A key with tools:invoke cannot also hold approvals:decide or admin.', fields: ['scopes'] });
  const at = now();
  const key = generateApiKey();
  const row: KeyRow = {
    id: newId('key'),
    workspaceId: actor.workspaceId,
    createdBy: actor.userId,
    name,
    ...apiKeyDisplayParts(key),
    keyHash: await hashToken(key),
    scopes: [...new Set(scopes)],
    createdAt: at,
    expiresAt: expiresInDays ? at + expiresInDays * DAY_MS : null,
    revokedAt: null,
    lastUsedAt: null,
  };
  await createDb(env.DB).insert(apiKeys).values(row);
  await recordAudit(
    env,
    {
      workspaceId: row.workspaceId,
      kind: 'api_key.created',
      actor: actorOfPrincipal(actor),
      data: { keyId: row.id, name, scopes: row.scopes, expiresAt: row.expiresAt },
    },
    at,
  );
  return done({ ...keyView(row), key });
}

/** Admins see the workspace's keys, others their own; never the secret. */
export async function listApiKeys(env: ApiKeyBindings, actor: Principal): Promise<Outcome<ApiKeyView[]>> {
  const scope = actor.scopes.has('admin')
    ? eq(apiKeys.workspaceId, actor.workspaceId)
    : and(eq(apiKeys.workspaceId, actor.workspaceId), eq(apiKeys.createdBy, actor.userId));
  const rows = await createDb(env.DB).select().from(apiKeys).where(scope).orderBy(desc(apiKeys.createdAt));
  return done(rows.map(keyView));
}

export async function revokeApiKey(env: ApiKeyBindings, actor: Principal, id: string, now: Clock): Promise<Outcome<{ revoked: true }>> {
  const db = createDb(env.DB);
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.workspaceId, actor.workspaceId)))
    .limit(1);
  if (!row) return refused({ kind: 'not-found' });
  // Admins revoke any key of the workspace; a person their own keys; a key without
  // `admin` only itself (a narrow key must not switch off its siblings).
  const allowed = actor.scopes.has('admin') || (actor.kind === 'session' ? row.createdBy === actor.userId : row.id === actor.apiKeyId);
  if (!allowed) return refused({ kind: 'not-found' });
  const at = now();
  await db
    .update(apiKeys)
    .set({ revokedAt: at })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  await recordAudit(
    env,
    { workspaceId: row.workspaceId, kind: 'api_key.revoked', actor: actorOfPrincipal(actor), data: { keyId: id } },
    at,
  );
  return done({ revoked: true });
}
