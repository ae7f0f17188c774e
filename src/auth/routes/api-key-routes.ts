import { z } from '@hono/zod-openapi';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { recordAudit } from '../../audit';
import { apiKeys, createDb, newId } from '../../db';
import { ApiError, createRouter, errorResponses } from '../../http';
import { apiKeyDisplayParts, generateApiKey } from '../api-key-format';
import { principalOf } from '../authenticate';
import { jsonContent, Scope } from '../schemas';
import { secured, signedIn } from '../secured';
import { actorOfPrincipal, exclusiveScopeConflict, SCOPES } from '../scopes';
import { hashToken } from '../tokens';
import type { Clock } from './clock';

const MAX_KEY_LIFETIME_DAYS = 3650;
const DAY_MS = 24 * 60 * 60 * 1000;

const CreateKey = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z
      .array(Scope)
      .min(1)
      .max(SCOPES.length)
      .openapi({ description: 'At most your own scopes. A key with `tools:invoke` never also holds `approvals:decide` or `admin` (400): the key that calls a tool must not approve the call, nor invite someone who would.' }),
    expiresInDays: z.number().int().min(1).max(MAX_KEY_LIFETIME_DAYS).optional(),
  })
  .openapi('CreateApiKeyRequest');
const KeyView = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    last4: z.string(),
    scopes: z.array(z.string()),
    createdBy: z.string(),
    createdAt: z.number().int(),
    expiresAt: z.number().int().nullable(),
    revokedAt: z.number().int().nullable(),
    lastUsedAt: z.number().int().nullable(),
  })
  .openapi('ApiKey');
const KeyCreated = KeyView.extend({ key: z.string().openapi({ description: 'Shown once; store it now.' }) }).openapi('ApiKeyCreated');
const KeyList = z.object({ apiKeys: z.array(KeyView) }).openapi('ApiKeyList');
const KeyId = z.object({ id: z.string().min(1).max(64) });

const createKeyRoute = secured({
  method: 'post',
  path: '/api/v1/api-keys',
  operationId: 'createApiKey',
  summary: 'Create an API key with at most your own scopes; the key is shown once',
  request: { body: { required: true, ...jsonContent(CreateKey) } },
  responses: { 201: { description: 'Created', ...jsonContent(KeyCreated) }, ...errorResponses(400, 401, 403) },
}, signedIn());
const listKeysRoute = secured({
  method: 'get',
  path: '/api/v1/api-keys',
  operationId: 'listApiKeys',
  summary: 'API keys (admins see the workspace’s, others their own); never the secret',
  responses: { 200: { description: 'Keys', ...jsonContent(KeyList) }, ...errorResponses(401) },
}, signedIn());
const revokeKeyRoute = secured({
  method: 'delete',
  path: '/api/v1/api-keys/{id}',
  operationId: 'revokeApiKey',
  summary: 'Revoke an API key immediately',
  request: { params: KeyId },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
}, signedIn());

type KeyRow = typeof apiKeys.$inferSelect;
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

/**
 * Scoped API keys. A key never gets more than its creator has (checked at creation, and
 * again at every use against the creator's current role). Creating keys with a key needs
 * `admin`, so a leaked narrow key cannot mint itself a sibling.
 */
export function apiKeyRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(createKeyRoute, async (c) => {
    const principal = principalOf(c);
    const { name, scopes, expiresInDays } = c.req.valid('json');
    if (principal.kind === 'api_key' && !principal.scopes.has('admin')) throw new ApiError('FORBIDDEN');
    if (!scopes.every((scope) => principal.scopes.has(scope))) throw new ApiError('FORBIDDEN', 'A key cannot have scopes you do not have.');
    // The key that calls tools must never be the key that approves the calls (scopes.ts).
    if (exclusiveScopeConflict(scopes)) throw new ApiError('VALIDATION_ERROR', 'A key with tools:invoke cannot also hold approvals:decide or admin.', { fields: ['scopes'] });
    const at = now();
    const key = generateApiKey();
    const row: KeyRow = {
      id: newId('key'),
      workspaceId: principal.workspaceId,
      createdBy: principal.userId,
      name,
      ...apiKeyDisplayParts(key),
      keyHash: await hashToken(key),
      scopes: [...new Set(scopes)],
      createdAt: at,
      expiresAt: expiresInDays ? at + expiresInDays * DAY_MS : null,
      revokedAt: null,
      lastUsedAt: null,
    };
    await createDb(c.env.DB).insert(apiKeys).values(row);
    await recordAudit(
      c.env,
      { workspaceId: row.workspaceId, kind: 'api_key.created', actor: actorOfPrincipal(principal), data: { keyId: row.id, name, scopes: row.scopes, expiresAt: row.expiresAt } },
      at,
    );
    return c.json({ ...keyView(row), key }, 201);
  });

  router.openapi(listKeysRoute, async (c) => {
    const principal = principalOf(c);
    const scope = principal.scopes.has('admin')
      ? eq(apiKeys.workspaceId, principal.workspaceId)
      : and(eq(apiKeys.workspaceId, principal.workspaceId), eq(apiKeys.createdBy, principal.userId));
    const rows = await createDb(c.env.DB).select().from(apiKeys).where(scope).orderBy(desc(apiKeys.createdAt));
    return c.json({ apiKeys: rows.map(keyView) }, 200);
  });

  router.openapi(revokeKeyRoute, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid('param');
    const db = createDb(c.env.DB);
    const [row] = await db.select().from(apiKeys).where(and(eq(apiKeys.id, id), eq(apiKeys.workspaceId, principal.workspaceId))).limit(1);
    if (!row) throw new ApiError('NOT_FOUND');
    // Admins revoke any key of the workspace; a person their own keys; a key without
    // `admin` only itself (a narrow key must not switch off its siblings).
    const allowed = principal.scopes.has('admin') || (principal.kind === 'session' ? row.createdBy === principal.userId : row.id === principal.apiKeyId);
    if (!allowed) throw new ApiError('NOT_FOUND');
    const at = now();
    await db.update(apiKeys).set({ revokedAt: at }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
    await recordAudit(c.env, { workspaceId: row.workspaceId, kind: 'api_key.revoked', actor: actorOfPrincipal(principal), data: { keyId: id } }, at);
    return c.body(null, 204);
  });

  return router;
}
