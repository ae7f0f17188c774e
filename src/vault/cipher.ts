/**
 * AES-256-GCM through WebCrypto, with the parameters pinned: 96-bit nonce, 128-bit tag.
 * NIST SP 800-38D §5.2.1.1 recommends 96-bit IVs (other lengths go through GHASH and,
 * at length 0, leak the authentication key: Wycheproof "ZeroLengthIv", CVE-2017-7822),
 * so anything else is refused rather than passed through.
 */
export const AES_KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const TAG_BITS = TAG_BYTES * 8;

/** A non-extractable AES-256-GCM key from 32 raw bytes (used by the vector tests and the bench). */
export function importAesGcmKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== AES_KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  return crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** A fresh random nonce. Random 96-bit nonces keep the collision risk negligible below 2^32 seals per key (SP 800-38D §8.3). */
export function randomNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

/** Returns ciphertext || tag (WebCrypto's layout). */
export async function aesGcmSeal(key: CryptoKey, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (nonce.length !== NONCE_BYTES) throw new RangeError('AES-GCM nonce must be 96 bits');
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: TAG_BITS }, key, plaintext);
  return new Uint8Array(sealed);
}

/**
 * Opens ciphertext || tag; null when the tag does not verify (wrong key, nonce, AAD or any
 * flipped bit) or the inputs have the wrong shape. WebCrypto checks the whole tag before
 * releasing any plaintext.
 */
export async function aesGcmOpen(key: CryptoKey, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array | null> {
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) return null;
  try {
    const plaintext = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: TAG_BITS }, key, sealed);
    return new Uint8Array(plaintext);
  } catch {
    return null;
  }
}
