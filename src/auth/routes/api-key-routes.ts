import { z } from '@hono/zod-openapi';
import { createRouter, errorResponses, valueOf } from '../../http';
import { createApiKey, listApiKeys, revokeApiKey } from '../api-keys';
import { principalOf } from '../authenticate';
import { jsonContent, Scope } from '../schemas';
import { secured, signedIn } from '../secured';
import { SCOPES } from '../scopes';
import type { Clock } from './clock';

const MAX_KEY_LIFETIME_DAYS = 3650;

const CreateKey = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(Scope).min(1).max(SCOPES.length).openapi({
      description:
        'At most your own scopes. A key with `tools:invoke` never also holds `approvals:decide` or `admin` (400): the key that calls a tool must not approve the call, nor invite someone who would.',
    }),
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

const createKeyRoute = secured(
  {
    method: 'post',
    path: '/api/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key with at most your own scopes; the key is shown once',
    request: { body: { required: true, ...jsonContent(CreateKey) } },
    responses: { 201: { description: 'Created', ...jsonContent(KeyCreated) }, ...errorResponses(400, 401, 403) },
  },
  signedIn(),
);
const listKeysRoute = secured(
  {
    method: 'get',
    path: '/api/v1/api-keys',
    operationId: 'listApiKeys',
    summary: 'API keys (admins see the workspace’s, others their own); never the secret',
    responses: { 200: { description: 'Keys', ...jsonContent(KeyList) }, ...errorResponses(401) },
  },
  signedIn(),
);
const revokeKeyRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/api-keys/{id}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key immediately',
    request: { params: KeyId },
    responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
  },
  signedIn(),
);

/** Scoped API keys (rules in ../api-keys.ts): parse, call, map. */
export function apiKeyRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(createKeyRoute, async (c) => c.json(valueOf(await createApiKey(c.env, principalOf(c), c.req.valid('json'), now)), 201));

  router.openapi(listKeysRoute, async (c) => c.json({ apiKeys: valueOf(await listApiKeys(c.env, principalOf(c))) }, 200));

  router.openapi(revokeKeyRoute, async (c) => {
    valueOf(await revokeApiKey(c.env, principalOf(c), c.req.valid('param').id, now));
    return c.body(null, 204);
  });

  return router;
}
