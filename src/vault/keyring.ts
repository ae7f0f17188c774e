import { utf8 } from '../lib';
import { decodeBase64 } from '../lib';
import { fail, ok, type VaultResult } from './problems';

/**
 * The keyring comes from the `VAULT_KEYS` secret: `id:base64key,id:base64key,…`.
 * The first key seals; every key opens. Keys are never used directly: each workspace gets
 * its own data key derived with HKDF-SHA256 (RFC 5869), so one workspace's key material is
 * never used for another's:
 *
 *   data key = HKDF-SHA256(IKM = keyring key, salt = HKDF_SALT, info = HKDF_INFO_PREFIX || workspaceId, L = 32)
 *
 * The salt is fixed and public (RFC 5869 §3.1 allows this; the IKM is already 256 uniformly
 * random bits, so the salt only separates this use from any other use of the same bytes).
 * The info binds the derived key to one workspace (§3.2); the prefix is fixed and the id
 * comes last, so two workspace ids never give the same info.
 */
export const HKDF_SALT = 'portcullis/vault/hkdf-salt/v1';
export const HKDF_INFO_PREFIX = 'portcullis/vault/workspace-data-key/v1:';
/** AES-256 needs 32 bytes; a shorter keyring key would cap the strength of every data key. */
export const MIN_KEY_BYTES = 32;
/** Key ids appear in envelopes (`.`-separated), so they are short and dot-free. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Derived data keys kept per isolate; past this the cache starts again (ids are unbounded). */
const MAX_CACHED_DATA_KEYS = 4096;

export interface Keyring {
  /** The id of the key that seals (the first entry of VAULT_KEYS). */
  readonly activeKeyId: string;
  /** Every key id, in VAULT_KEYS order. */
  readonly keyIds: readonly string[];
  /** The AES-256-GCM data key of `workspaceId` under `keyId`; null if the keyring lacks that key. */
  dataKey(keyId: string, workspaceId: string): Promise<CryptoKey | null>;
}

function createKeyring(keys: ReadonlyMap<string, CryptoKey>, activeKeyId: string): Keyring {
  const cache = new Map<string, Promise<CryptoKey>>();
  return {
    activeKeyId,
    keyIds: [...keys.keys()],
    dataKey(keyId, workspaceId) {
      const master = keys.get(keyId);
      if (!master) return Promise.resolve(null);
      const cacheKey = `${keyId}\u0000${workspaceId}`;
      let derived = cache.get(cacheKey);
      if (!derived) {
        if (cache.size >= MAX_CACHED_DATA_KEYS) cache.clear();
        derived = crypto.subtle.deriveKey(
          { name: 'HKDF', hash: 'SHA-256', salt: utf8(HKDF_SALT), info: utf8(HKDF_INFO_PREFIX + workspaceId) },
          master,
          { name: 'AES-GCM', length: 256 },
          false,
          ['encrypt', 'decrypt'],
        );
        cache.set(cacheKey, derived);
        derived.catch(() => cache.delete(cacheKey));
      }
      return derived;
    },
  };
}

/**
 * Parses VAULT_KEYS. Whitespace around entries is ignored (a trailing newline from
 * `wrangler secret put` is common); anything else that is not exactly `id:base64` with a
 * unique id and a key of at least 32 bytes makes the whole keyring unusable: a half-read
 * keyring could seal under the wrong key or fail to open old envelopes.
 */
export async function parseKeyring(raw: string | undefined): Promise<VaultResult<Keyring>> {
  if (raw === undefined || raw.trim() === '') return fail({ kind: 'keyring-missing' });
  const keys = new Map<string, CryptoKey>();
  const entries = raw.split(',');
  for (const [entry, text] of entries.map((value, index) => [index, value.trim()] as const)) {
    if (text === '') return fail({ kind: 'keyring-malformed', entry, reason: 'empty-entry' });
    const colon = text.indexOf(':');
    if (colon < 0) return fail({ kind: 'keyring-malformed', entry, reason: 'missing-separator' });
    const keyId = text.slice(0, colon);
    if (!KEY_ID_PATTERN.test(keyId)) return fail({ kind: 'keyring-malformed', entry, reason: 'bad-key-id' });
    if (keys.has(keyId)) return fail({ kind: 'keyring-malformed', entry, reason: 'duplicate-key-id' });
    const bytes = decodeBase64(text.slice(colon + 1));
    if (!bytes) return fail({ kind: 'keyring-malformed', entry, reason: 'bad-base64' });
    if (bytes.length < MIN_KEY_BYTES) return fail({ kind: 'key-too-short', keyId, bytes: bytes.length });
    keys.set(keyId, await crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey']));
  }
  const activeKeyId = keys.keys().next().value;
  if (activeKeyId === undefined) return fail({ kind: 'keyring-missing' });
  return ok(createKeyring(keys, activeKeyId));
}

/** Parsed once per isolate per distinct VAULT_KEYS value (a new secret means a new string). */
let cached: { raw: string | undefined; keyring: Promise<VaultResult<Keyring>> } | undefined;

export function keyringFor(raw: string | undefined): Promise<VaultResult<Keyring>> {
  if (!cached || cached.raw !== raw) cached = { raw, keyring: parseKeyring(raw) };
  return cached.keyring;
}
