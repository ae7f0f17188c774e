/**
 * Strict base64 codecs. Strict because a keyring or an envelope that only decodes under a
 * lenient reading (stray characters, wrong padding, non-zero unused bits) is malformed,
 * not "probably fine"; and one byte string then has exactly one accepted spelling.
 * Uses the built-in Uint8Array base64 methods where the runtime has them (workerd does;
 * they are much faster on 16 KiB values) and an equivalent portable path otherwise.
 */

type Alphabet = 'base64' | 'base64url';
interface NativeBase64 {
  fromBase64?: (text: string, options: { alphabet: Alphabet; lastChunkHandling: 'strict' }) => Uint8Array;
}
interface NativeToBase64 {
  toBase64?: (options: { alphabet: Alphabet; omitPadding: boolean }) => string;
}
const native = Uint8Array as unknown as NativeBase64;
const hasNativeEncode = typeof (Uint8Array.prototype as unknown as NativeToBase64).toBase64 === 'function';

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

function encode(bytes: Uint8Array, alphabet: Alphabet, omitPadding: boolean): string {
  if (hasNativeEncode) return (bytes as unknown as Required<NativeToBase64>).toBase64({ alphabet, omitPadding });
  let text = btoa(bytesToBinary(bytes));
  if (alphabet === 'base64url') text = text.replace(/\+/g, '-').replace(/\//g, '_');
  return omitPadding ? text.replace(/=+$/, '') : text;
}

/** Padded text (already checked against its alphabet's pattern) → bytes; null if unused bits are set. */
function decodePadded(padded: string, alphabet: Alphabet): Uint8Array | null {
  if (native.fromBase64) {
    try {
      return native.fromBase64(padded, { alphabet, lastChunkHandling: 'strict' });
    } catch {
      return null;
    }
  }
  const bytes = binaryToBytes(atob(alphabet === 'base64url' ? padded.replace(/-/g, '+').replace(/_/g, '/') : padded));
  return encode(bytes, alphabet, false) === padded ? bytes : null;
}

/** Standard base64 (RFC 4648 §4) with padding; null when not exactly that. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length === 0 || !STANDARD.test(text)) return null;
  return decodePadded(text, 'base64');
}

export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, 'base64', false);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, 'base64url', true);
}

/** Unpadded base64url (RFC 4648 §5); null on any other character, padding, an impossible length or set unused bits. */
export function decodeBase64Url(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  const padded = text + '='.repeat((4 - (text.length % 4)) % 4);
  if (native.fromBase64) {
    // The built-in decoder refuses other characters and set unused bits but skips ASCII
    // whitespace and accepts padding; either makes the output shorter than the text's
    // length implies, so an exact length check refuses both without a slow regex pass.
    const bytes = decodePadded(padded, 'base64url');
    return bytes && bytes.length === Math.floor((text.length * 3) / 4) ? bytes : null;
  }
  return URL_SAFE.test(text) ? decodePadded(padded, 'base64url') : null;
}

/**
 * Standard alphabet without padding, as PHC strings (password hashes) spell salts and tags;
 * null on any other character, padding, an impossible length or set unused bits.
 */
export function decodeBase64Unpadded(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 4 === 1 || !/^[A-Za-z0-9+/]+$/.test(text)) return null;
  return decodeBase64(text + '='.repeat((4 - (text.length % 4)) % 4));
}

export function encodeBase64Unpadded(bytes: Uint8Array): string {
  return encode(bytes, 'base64', true);
}
