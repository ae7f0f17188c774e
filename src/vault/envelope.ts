import { canonicalJson, utf8 } from '../lib';
import { decodeBase64Url, encodeBase64Url } from '../lib';
import { aesGcmOpen, aesGcmSeal, NONCE_BYTES, randomNonce, TAG_BYTES } from './cipher';
import { KEY_ID_PATTERN, type Keyring } from './keyring';
import { fail, ok, type VaultResult } from './problems';

/**
 * Envelope text: `v1.<keyId>.<nonce b64url>.<ciphertext+tag b64url>`.
 * The AAD binds a ciphertext to its place, so an envelope copied into another row,
 * workspace, owner or name fails authentication instead of opening (see envelopeAad).
 */
export const ENVELOPE_VERSION = 'v1';

/**
 * `conversation`: transcript entries sealed by the Conversation Durable Object (never rows
 * of vault_secrets; ownerId = conversation id, name = `message:<seq>` or `pending`).
 */
export const OWNER_KINDS = ['credential', 'connector', 'conversation'] as const;
export type OwnerKind = (typeof OWNER_KINDS)[number];

/** Where a secret lives: the unique key of a vault_secrets row. */
export interface SecretRef {
  workspaceId: string;
  /** `credential`: ownerId is the workspace id; `connector`: ownerId is the connector id; `conversation`: the conversation id. */
  ownerKind: OwnerKind;
  ownerId: string;
  name: string;
}

/**
 * AAD = UTF-8 of the RFC 8785 canonical JSON array
 * `["portcullis/vault", version, workspaceId, ownerKind, ownerId, name]`.
 * A JSON array is unambiguous (every field is quoted and escaped), so no two places share an
 * AAD; the version is inside so an envelope cannot be re-labelled as another version.
 */
export function envelopeAad(ref: SecretRef, version: string = ENVELOPE_VERSION): Uint8Array {
  return utf8(canonicalJson(['portcullis/vault', version, ref.workspaceId, ref.ownerKind, ref.ownerId, ref.name]));
}

export interface ParsedEnvelope {
  version: typeof ENVELOPE_VERSION;
  keyId: string;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

/**
 * Reads envelope text. Precedence, first match wins:
 * 1. version part is not `v1` → unknown-version (so a plaintext in the column is an error, never a value);
 * 2. not exactly four parts → envelope-malformed;
 * 3. key id not of key-id shape → envelope-malformed;
 * 4. nonce not 12 bytes or ciphertext+tag shorter than the 16-byte tag → envelope-malformed;
 * 5. otherwise parsed (the key id is checked against the keyring by openEnvelope).
 */
export function parseEnvelope(text: string): VaultResult<ParsedEnvelope> {
  const parts = text.split('.');
  if (parts[0] !== ENVELOPE_VERSION) return fail({ kind: 'unknown-version' });
  if (parts.length !== 4) return fail({ kind: 'envelope-malformed' });
  const [, keyId = '', nonceText = '', sealedText = ''] = parts;
  if (!KEY_ID_PATTERN.test(keyId)) return fail({ kind: 'envelope-malformed' });
  const nonce = decodeBase64Url(nonceText);
  const sealed = decodeBase64Url(sealedText);
  if (!nonce || nonce.length !== NONCE_BYTES || !sealed || sealed.length < TAG_BYTES) return fail({ kind: 'envelope-malformed' });
  return ok({ version: ENVELOPE_VERSION, keyId, nonce, sealed });
}

/** Seals under the keyring's active key, with a fresh random nonce every time. */
export async function sealEnvelope(keyring: Keyring, ref: SecretRef, plaintext: string): Promise<string> {
  const keyId = keyring.activeKeyId;
  const key = await keyring.dataKey(keyId, ref.workspaceId);
  if (!key) throw new Error('vault: the active key is missing from its own keyring'); // unreachable by construction
  const nonce = randomNonce();
  const sealed = await aesGcmSeal(key, nonce, utf8(plaintext), envelopeAad(ref));
  return `${ENVELOPE_VERSION}.${keyId}.${encodeBase64Url(nonce)}.${encodeBase64Url(sealed)}`;
}

export interface OpenedEnvelope {
  plaintext: string;
  keyId: string;
}

/**
 * Opens an envelope found at `ref`. Precedence: parseEnvelope's list, then
 * 6. key id not in the keyring → unknown-key;
 * 7. tag does not verify under the workspace's data key and this place's AAD → decrypt-failed;
 * 8. plaintext is not valid UTF-8 → decrypt-failed (sealEnvelope only ever seals UTF-8);
 * 9. otherwise the plaintext.
 */
export async function openEnvelope(keyring: Keyring, ref: SecretRef, text: string): Promise<VaultResult<OpenedEnvelope>> {
  const parsed = parseEnvelope(text);
  if (!parsed.ok) return parsed;
  const { keyId, nonce, sealed, version } = parsed.value;
  const key = await keyring.dataKey(keyId, ref.workspaceId);
  if (!key) return fail({ kind: 'unknown-key', keyId });
  const bytes = await aesGcmOpen(key, nonce, sealed, envelopeAad(ref, version));
  if (!bytes) return fail({ kind: 'decrypt-failed' });
  try {
    // ignoreBOM keeps a leading U+FEFF: the value comes back exactly as sealed.
    return ok({ plaintext: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), keyId });
  } catch {
    return fail({ kind: 'decrypt-failed' });
  }
}
