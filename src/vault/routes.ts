import type { MiddlewareHandler } from 'hono';
import { principalOf, secured, signedIn, type Clock } from '../auth';
import type { AppEnv, Env } from '../env';
import { ApiError, createRouter, errorResponses, jsonContent } from '../http';
import { deleteCredential, getCredential, listCredentials, putCredential } from './credentials';
import { requireVault, vaultProblemToApiError } from './refuse';
import { rotateVault, type SealedStore } from './rotate';
import { CredentialList, CredentialNameParams, CredentialView, PutCredentialBody, RotateVaultBody, RotateVaultResult } from './schemas';

/** After authentication (so an anonymous caller learns nothing), a missing or malformed keyring is 503. */
const vaultReady: MiddlewareHandler<AppEnv> = async function vaultReadyMiddleware(c, next) {
  await requireVault(c.env, c.get('requestId'));
  await next();
};
const json = jsonContent;

const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/credentials',
    operationId: 'listCredentials',
    middleware: [vaultReady],
    summary: 'Credentials of your workspace, masked (scope agents:read)',
    responses: { 200: { description: 'Masked credentials', ...json(CredentialList) }, ...errorResponses(401, 403, 503) },
  },
  signedIn('agents:read'),
);
const getRoute = secured(
  {
    method: 'get',
    path: '/api/v1/credentials/{name}',
    operationId: 'getCredential',
    middleware: [vaultReady],
    summary: 'One credential, masked (scope agents:read)',
    request: { params: CredentialNameParams },
    responses: { 200: { description: 'Masked credential', ...json(CredentialView) }, ...errorResponses(400, 401, 403, 404, 503) },
  },
  signedIn('agents:read'),
);
const putRoute = secured(
  {
    method: 'put',
    path: '/api/v1/credentials/{name}',
    operationId: 'putCredential',
    middleware: [vaultReady],
    summary: 'Create or replace a credential (scope credentials:write); the value is encrypted and never returned',
    request: { params: CredentialNameParams, body: { required: true, ...json(PutCredentialBody) } },
    responses: {
      200: { description: 'Replaced', ...json(CredentialView) },
      201: { description: 'Created', ...json(CredentialView) },
      ...errorResponses(400, 401, 403, 503),
    },
  },
  signedIn('credentials:write'),
);
const deleteRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/credentials/{name}',
    operationId: 'deleteCredential',
    middleware: [vaultReady],
    summary: 'Delete a credential (scope credentials:write)',
    request: { params: CredentialNameParams },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(400, 401, 403, 404, 503) },
  },
  signedIn('credentials:write'),
);
const rotateRoute = secured(
  {
    method: 'post',
    path: '/api/v1/admin/vault/rotate',
    operationId: 'rotateVault',
    summary: 'Re-encrypt envelopes under the active key, a batch at a time; call until remaining is 0 (instance owner)',
    request: { body: { required: false, ...json(RotateVaultBody) } },
    responses: { 200: { description: 'Progress', ...json(RotateVaultResult) }, ...errorResponses(400, 401, 403, 503) },
  },
  signedIn('admin'),
);

export interface VaultRouteDeps {
  /** The sealed data outside vault_secrets that rotation must reach too (app.ts: the conversation objects). */
  sealedStores: (env: Env) => readonly SealedStore[];
}

/**
 * Credentials API and vault rotation. Every route first checks the keyring (503 with a log
 * line when it is missing or malformed), so no route half-works without it.
 */
export function vaultRoutes(now: Clock, deps: VaultRouteDeps) {
  const router = createRouter();

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
    const result = await rotateVault(c.env, {
      batchSize: body.batchSize,
      actor: `user:${principal.userId}`,
      now: now(),
      sealedStores: deps.sealedStores(c.env),
    });
    if (!result.ok) throw vaultProblemToApiError(result.problem, c.get('requestId'));
    return c.json(result.value, 200);
  });

  return router;
}
