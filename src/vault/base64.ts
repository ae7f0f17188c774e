/**
 * Strict base64 codecs. Strict because a keyring or an envelope that only decodes under a
 * lenient reading (stray characters, wrong padding) is malformed, not "probably fine".
 */

const STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 4648 §5 alphabet, unpadded (§3.2 allows omitting padding when the length is known). */
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

function binaryToBytes(binary: string): Uint8Array {
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function bytesToBinary(bytes: Uint8Array): string {
  let binary = '';
  // Chunked so long values do not overflow the argument limit of fromCharCode.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return binary;
}

/** Standard base64 (RFC 4648 §4) with padding; null when not exactly that. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length === 0 || !STANDARD.test(text)) return null;
  return binaryToBytes(atob(text));
}

export function encodeBase64(bytes: Uint8Array): string {
  return btoa(bytesToBinary(bytes));
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Unpadded base64url (RFC 4648 §5); null on any other character or an impossible length. */
export function decodeBase64Url(text: string): Uint8Array | null {
  if (!URL_SAFE.test(text) || text.length % 4 === 1) return null;
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = binaryToBytes(atob(standard + '='.repeat((4 - (standard.length % 4)) % 4)));
  // Reject non-canonical encodings (unused low bits set), so one envelope has one spelling.
  return encodeBase64Url(bytes) === text ? bytes : null;
}
