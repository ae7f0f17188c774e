/** The vault: AES-256-GCM envelopes in D1, keyring and rotation, masking, redaction (docs/vault.md). */
export { aesGcmOpen, aesGcmSeal, importAesGcmKey, NONCE_BYTES, TAG_BYTES } from './cipher';
export {
  deleteCredential,
  getCredential,
  listCredentials,
  putCredential,
  credentialRef,
  toCredentialView,
  type CredentialBindings,
  type CredentialView,
  type PutCredentialInput,
} from './credentials';
export {
  ENVELOPE_VERSION,
  envelopeAad,
  openEnvelope,
  OWNER_KINDS,
  parseEnvelope,
  sealEnvelope,
  type OwnerKind,
  type SecretRef,
} from './envelope';
export { HKDF_INFO_PREFIX, HKDF_SALT, keyringFor, MIN_KEY_BYTES, parseKeyring, type Keyring } from './keyring';
export { MASK, MASK_REVEAL_MIN_CHARS, maskSecret } from './mask';
export type { KeyringMalformedReason, VaultProblem, VaultProblemKind, VaultResult } from './problems';
export {
  MIN_REDACTABLE_CHARS,
  redactSecrets,
  secretByteScrubber,
  secretForms,
  secretRedactor,
  workspaceRedactor,
  type ByteScrubber,
  type WorkspaceRedactor,
} from './redact';
export { describeVaultProblem, logVaultProblem, requireVault, vaultProblemToApiError } from './refuse';
export {
  DEFAULT_ROTATION_BATCH_SIZE,
  rotateVault,
  type RotationOptions,
  type RotationReport,
  type SealedBatch,
  type SealedStore,
} from './rotate';
export {
  CREDENTIAL_NAME_PATTERN,
  CredentialList,
  CredentialName,
  CredentialNameParams,
  CredentialView as CredentialViewSchema,
  Hostname,
  MAX_CREDENTIAL_VALUE_BYTES,
  PutCredentialBody,
  RotateVaultBody,
  RotateVaultResult,
} from './schemas';
export {
  deleteSecret,
  getSecret,
  listSecrets,
  loadVault,
  openFetchedSecret,
  openSecret,
  openWorkspaceSecrets,
  sealSecret,
  type SealOptions,
  type SecretView,
  type Vault,
  type VaultBindings,
  type VaultDeps,
} from './store';
export { vaultRoutes, type VaultRouteDeps } from './routes';
