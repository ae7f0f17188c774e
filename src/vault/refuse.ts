import { ApiError } from '../http';
import type { VaultProblem } from './problems';
import { loadVault, type Vault, type VaultBindings } from './store';

/** A log-safe sentence per problem: names the problem, never a key, value or envelope. */
export function describeVaultProblem(problem: VaultProblem): string {
  switch (problem.kind) {
    case 'keyring-missing':
      return 'VAULT_KEYS is not set; set it with `wrangler secret put VAULT_KEYS` (docs/vault.md)';
    case 'keyring-malformed':
      return `VAULT_KEYS entry ${problem.entry} is malformed (${problem.reason}); expected id:base64key,… (docs/vault.md)`;
    case 'key-too-short':
      return `VAULT_KEYS key ${problem.keyId} is ${problem.bytes} bytes; at least 32 are required (docs/vault.md)`;
    case 'envelope-malformed':
      return 'a vault envelope is malformed';
    case 'unknown-version':
      return 'a vault envelope has an unknown version';
    case 'unknown-key':
      return `a vault envelope is sealed under key ${problem.keyId}, which VAULT_KEYS no longer holds; re-add it and rotate (docs/vault.md)`;
    case 'decrypt-failed':
      return 'a vault envelope failed authentication (tampered, moved, or wrong key)';
    case 'not-found':
      return 'no such secret';
  }
}

/**
 * The one mapping from vault problems to wire errors. Precedence:
 * 1. keyring-missing / keyring-malformed / key-too-short → 503 SERVICE_UNAVAILABLE (operator must fix VAULT_KEYS);
 * 2. not-found → 404 NOT_FOUND (same answer as another workspace's secret);
 * 3. anything else (a stored envelope that will not open) → 500 INTERNAL.
 * Cases 1 and 3 are logged with console.error for the operator; the client sees only the code.
 */
export function vaultProblemToApiError(problem: VaultProblem, requestId?: string): ApiError {
  switch (problem.kind) {
    case 'keyring-missing':
    case 'keyring-malformed':
    case 'key-too-short':
      logVaultProblem(problem, requestId);
      return new ApiError('SERVICE_UNAVAILABLE');
    case 'not-found':
      return new ApiError('NOT_FOUND');
    case 'envelope-malformed':
    case 'unknown-version':
    case 'unknown-key':
    case 'decrypt-failed':
      logVaultProblem(problem, requestId);
      return new ApiError('INTERNAL');
  }
}

export function logVaultProblem(problem: VaultProblem, requestId?: string): void {
  console.error(
    JSON.stringify({ level: 'error', requestId, event: 'vault.problem', problem: problem.kind, message: describeVaultProblem(problem) }),
  );
}

/**
 * For credential and admin routes: a ready Vault, or throw 503 SERVICE_UNAVAILABLE after
 * logging why. Call it first, so a broken keyring refuses the route before anything runs.
 */
export async function requireVault(env: VaultBindings, requestId?: string): Promise<Vault> {
  const vault = await loadVault(env);
  if (!vault.ok) throw vaultProblemToApiError(vault.problem, requestId);
  return vault.value;
}
