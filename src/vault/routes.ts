import { createRoute } from '@hono/zod-openapi';
import { authenticate, principalOf, requireScope, type Clock } from '../auth';
import { ApiError, createRouter, errorResponses } from '../http';
import { deleteCredential, getCredential, listCredentials, putCredential } from './credentials';
import { requireVault, vaultProblemToApiError } from './refuse';
import { rotateVault } from './rotate';
import { CredentialList, CredentialNameParams, CredentialView, PutCredentialBody, RotateVaultBody, RotateVaultResult } from './schemas';

const auth = { security: [{ apiKey: [] }, { session: [] }] as Array<Record<string, string[]>> };
const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

const listRoute = createRoute({
  method: 'get',
  path: '/api/v1/credentials',
  summary: 'Credentials of your workspace, masked (scope agents:read)',
  ...auth,
  responses: { 200: { description: 'Masked credentials', ...json(CredentialList) }, ...errorResponses(401, 403, 503) },
});
const getRoute = createRoute({
  method: 'get',
  path: '/api/v1/credentials/{name}',
  summary: 'One credential, masked (scope agents:read)',
  ...auth,
  request: { params: CredentialNameParams },
  responses: { 200: { description: 'Masked credential', ...json(CredentialView) }, ...errorResponses(400, 401, 403, 404, 503) },
});
const putRoute = createRoute({
  method: 'put',
  path: '/api/v1/credentials/{name}',
  summary: 'Create or replace a credential (scope credentials:write); the value is encrypted and never returned',
  ...auth,
  request: { params: CredentialNameParams, body: { required: true, ...json(PutCredentialBody) } },
  responses: {
    200: { description: 'Replaced', ...json(CredentialView) },
    201: { description: 'Created', ...json(CredentialView) },
    ...errorResponses(400, 401, 403, 503),
  },
});
const deleteRoute = createRoute({
  method: 'delete',
  path: '/api/v1/credentials/{name}',
  summary: 'Delete a credential (scope credentials:write)',
  ...auth,
  request: { params: CredentialNameParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404, 503) },
});
const rotateRoute = createRoute({
  method: 'post',
  path: '/api/v1/admin/vault/rotate',
  summary: 'Re-encrypt envelopes under the active key, a batch at a time; call until remaining is 0 (instance owner)',
  ...auth,
  request: { body: { required: false, ...json(RotateVaultBody) } },
  responses: { 200: { description: 'Progress', ...json(RotateVaultResult) }, ...errorResponses(400, 401, 403, 503) },
});

/**
 * Credentials API and vault rotation. Every route first checks the keyring (503 with a log
 * line when it is missing or malformed), so no route half-works without it.
 */
export function vaultRoutes(now: Clock) {
  const router = createRouter();
  const signedIn = authenticate({ now });
  router.on('GET', ['/api/v1/credentials', '/api/v1/credentials/:name'], signedIn, requireScope('agents:read'));
  router.on(['PUT', 'DELETE'], '/api/v1/credentials/:name', signedIn, requireScope('credentials:write'));
  router.on('POST', '/api/v1/admin/vault/rotate', signedIn, requireScope('admin'));
  router.use('/api/v1/credentials/*', async (c, next) => {
    await requireVault(c.env, c.get('requestId'));
    await next();
  });
  router.use('/api/v1/credentials', async (c, next) => {
    await requireVault(c.env, c.get('requestId'));
    await next();
  });

  router.openapi(listRoute, async (c) => {
    const result = await listCredentials(c.env, principalOf(c).workspaceId);
    if (!result.ok) throw vaultProblemToApiError(result.problem, c.get('requestId'));
    return c.json({ credentials: result.value }, 200);
  });

  router.openapi(getRoute, async (c) => {
    const result = await getCredential(c.env, principalOf(c).workspaceId, c.req.valid('param').name);
    if (!result.ok) throw vaultProblemToApiError(result.problem, c.get('requestId'));
    return c.json(result.value, 200);
  });

  router.openapi(putRoute, async (c) => {
    const principal = principalOf(c);
    const { value, allowedHosts } = c.req.valid('json');
    const result = await putCredential(c.env, {
      workspaceId: principal.workspaceId,
      name: c.req.valid('param').name,
      value,
      allowedHosts: allowedHosts ?? null,
      actor: principal.apiKeyId ? `api_key:${principal.apiKeyId}` : `user:${principal.userId}`,
      now: now(),
    });
    if (!result.ok) throw vaultProblemToApiError(result.problem, c.get('requestId'));
    return c.json(result.value.credential, result.value.created ? 201 : 200);
  });

  router.openapi(deleteRoute, async (c) => {
    const principal = principalOf(c);
    const result = await deleteCredential(c.env, {
      workspaceId: principal.workspaceId,
      name: c.req.valid('param').name,
      actor: principal.apiKeyId ? `api_key:${principal.apiKeyId}` : `user:${principal.userId}`,
      now: now(),
    });
    if (!result.ok) throw vaultProblemToApiError(result.problem, c.get('requestId'));
    return c.body(null, 204);
  });

  router.openapi(rotateRoute, async (c) => {
    const principal = principalOf(c);
    // Rotation touches every workspace's envelopes: the instance owner only.
    if (!principal.isInstanceOwner) throw new ApiError('FORBIDDEN');
    await requireVault(c.env, c.get('requestId'));
    const body = c.req.header('Content-Length') === '0' || !c.req.header('Content-Type') ? RotateVaultBody.parse({}) : c.req.valid('json');
    const result = await rotateVault(c.env, { batchSize: body.batchSize, actor: `user:${principal.userId}`, now: now() });
    if (!result.ok) throw vaultProblemToApiError(result.problem, c.get('requestId'));
    return c.json(result.value, 200);
  });

  return router;
}
