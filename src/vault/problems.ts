/**
 * Every way the vault can fail, as tagged values (house style: internal failures are
 * tagged; one place, `vaultProblemToApiError`, turns them into wire errors).
 * No variant carries key material, a plaintext or an envelope: problems are logged.
 */
export type KeyringMalformedReason = 'empty-entry' | 'missing-separator' | 'bad-key-id' | 'bad-base64' | 'duplicate-key-id';

export type VaultProblem =
  /** `VAULT_KEYS` is unset or blank. */
  | { kind: 'keyring-missing' }
  /** Entry `entry` (0-based) of `VAULT_KEYS` cannot be parsed. */
  | { kind: 'keyring-malformed'; entry: number; reason: KeyringMalformedReason }
  /** A key decodes to fewer than MIN_KEY_BYTES bytes. */
  | { kind: 'key-too-short'; keyId: string; bytes: number }
  /** The envelope text is not `v1.<keyId>.<nonce>.<ciphertext+tag>` with valid parts. */
  | { kind: 'envelope-malformed' }
  /** The envelope names a version this code does not know; never read as plaintext. */
  | { kind: 'unknown-version' }
  /** The envelope names a key id the keyring does not hold (e.g. removed too early). */
  | { kind: 'unknown-key'; keyId: string }
  /** Authentication failed: wrong key, tampered bytes, or an envelope moved to another place (AAD). */
  | { kind: 'decrypt-failed' }
  /** No secret of that name for that owner in that workspace. */
  | { kind: 'not-found' };

export type VaultProblemKind = VaultProblem['kind'];

export type VaultResult<T> = { ok: true; value: T } | { ok: false; problem: VaultProblem };

export function ok<T>(value: T): VaultResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(problem: VaultProblem): VaultResult<T> {
  return { ok: false, problem };
}
