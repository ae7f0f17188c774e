import { recordAudit, type AuditBindings } from '../audit';
import type { SecretRef } from './envelope';
import { ok, type VaultResult } from './problems';
import { deleteSecret, getSecret, listSecrets, sealSecret, type SecretView, type VaultBindings } from './store';

/**
 * Workspace credentials (`/api/v1/credentials/:name`): vault secrets with ownerKind
 * `credential` and ownerId = the workspace id. Each function is what one route does after
 * authentication and validation, so a route handler is a thin wrapper: call, map a problem
 * with vaultProblemToApiError, answer. Writes record an audit event naming the credential only.
 */
export type CredentialBindings = VaultBindings & AuditBindings;

/** The wire view (PUT/GET responses): no owner fields, no key id, never the value. */
export interface CredentialView {
  name: string;
  masked: string;
  allowedHosts: string[] | null;
  createdAt: number;
  updatedAt: number;
}

export function credentialRef(workspaceId: string, name: string): SecretRef {
  return { workspaceId, ownerKind: 'credential', ownerId: workspaceId, name };
}

export function toCredentialView(secret: SecretView): CredentialView {
  return {
    name: secret.name,
    masked: secret.masked,
    allowedHosts: secret.allowedHosts,
    createdAt: secret.createdAt,
    updatedAt: secret.updatedAt,
  };
}

export interface PutCredentialInput {
  workspaceId: string;
  name: string;
  value: string;
  allowedHosts?: string[] | null;
  /** `user:<id>` or `api_key:<id>`. */
  actor: string;
  now: number;
}

/** PUT: 201 when `created`, 200 when replaced. */
export async function putCredential(
  env: CredentialBindings,
  input: PutCredentialInput,
): Promise<VaultResult<{ created: boolean; credential: CredentialView }>> {
  const sealed = await sealSecret(env, credentialRef(input.workspaceId, input.name), input.value, {
    allowedHosts: input.allowedHosts ?? null,
    now: input.now,
  });
  if (!sealed.ok) return sealed;
  const { created, secret } = sealed.value;
  await recordAudit(
    env,
    { workspaceId: input.workspaceId, kind: 'credential.put', actor: input.actor, data: { name: input.name, created } },
    input.now,
  );
  return ok({ created, credential: toCredentialView(secret) });
}

export async function getCredential(env: VaultBindings, workspaceId: string, name: string): Promise<VaultResult<CredentialView>> {
  const found = await getSecret(env, credentialRef(workspaceId, name));
  return found.ok ? ok(toCredentialView(found.value)) : found;
}

export async function listCredentials(env: VaultBindings, workspaceId: string): Promise<VaultResult<CredentialView[]>> {
  const listed = await listSecrets(env, { workspaceId, ownerKind: 'credential', ownerId: workspaceId });
  return listed.ok ? ok(listed.value.map(toCredentialView)) : listed;
}

/** DELETE: 204 on success, not-found (404) otherwise; only a real deletion is audited. */
export async function deleteCredential(
  env: CredentialBindings,
  input: { workspaceId: string; name: string; actor: string; now: number },
): Promise<VaultResult<{ deleted: true }>> {
  const deleted = await deleteSecret(env, credentialRef(input.workspaceId, input.name));
  if (!deleted.ok) return deleted;
  await recordAudit(
    env,
    { workspaceId: input.workspaceId, kind: 'credential.deleted', actor: input.actor, data: { name: input.name } },
    input.now,
  );
  return deleted;
}
