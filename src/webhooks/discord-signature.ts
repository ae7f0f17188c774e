import type { DiscordRejectReason } from './reject-reasons';
import { etc, Point } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8 } from '../lib';
import { constantTimeEqual } from '../lib';
import { checkTimestamp } from './timestamps';

/** Order of the Ed25519 base point (RFC 8032 §5.1: L = 2^252 + 27742317777372353535851937790883648493). */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

const SIGNATURE_HEX_CHARS = 128;
const PUBLIC_KEY_HEX_CHARS = 64;
const HEX = /^[0-9a-fA-F]*$/;

/** Verifies an Ed25519 signature over a message; never throws, any failure is `false`. */
export type Ed25519Backend = (publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array) => Promise<boolean>;

export type DiscordVerdict = { ok: true } | { ok: false; reason: DiscordRejectReason };

export interface DiscordSignatureInput {
  /** The connector's application public key, 64 hex chars (Developer Portal). */
  publicKeyHex: string;
  /** X-Signature-Ed25519. */
  signatureHex: string | undefined;
  /** X-Signature-Timestamp: decimal Unix seconds. */
  timestamp: string | undefined;
  rawBody: Uint8Array;
  /** Epoch milliseconds. */
  now: number;
}

/** L as 32 little-endian bytes, for a byte-wise S < L check without BigInt. */
const L_LE = Uint8Array.from({ length: 32 }, (_, i) => Number((ED25519_L >> BigInt(8 * i)) & 0xffn));

/** S < L on the little-endian scalar half of a signature, compared from the top byte down. */
export function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const a = s[i] ?? 0;
    const b = L_LE[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false; // S == L
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] ?? 0);
  return value;
}

/** Keys are configuration, so the few distinct ones an isolate sees are checked once each. */
const MEMO_MAX_ENTRIES = 256;
const keyVerdicts = new Map<string, boolean>();

/**
 * A public key Discord could have issued: a canonical encoding (y < p, RFC 8032 §5.1.3) of
 * a point in the prime-order subgroup. Small-order and mixed-order keys ("Taming the many
 * EdDSAs", speccheck vectors 0–5, 10, 11) are where Ed25519 libraries disagree; no honest
 * key is one, so refusing them keeps both verification paths on the same verdict.
 */
export function isAcceptableEd25519PublicKey(publicKey: Uint8Array): boolean {
  const memoKey = bytesToHex(publicKey);
  const known = keyVerdicts.get(memoKey);
  if (known !== undefined) return known;
  const verdict = checkPublicKeyPoint(publicKey);
  if (keyVerdicts.size >= MEMO_MAX_ENTRIES) keyVerdicts.clear();
  keyVerdicts.set(memoKey, verdict);
  return verdict;
}

function checkPublicKeyPoint(publicKey: Uint8Array): boolean {
  try {
    const point = Point.fromBytes(publicKey, false);
    return constantTimeEqual(point.toBytes(), publicKey) && !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false; // not a point on the curve
  }
}

const importedKeys = new Map<string, Promise<CryptoKey>>();

function importEd25519Key(publicKey: Uint8Array): Promise<CryptoKey> {
  const memoKey = bytesToHex(publicKey);
  let key = importedKeys.get(memoKey);
  if (!key) {
    if (importedKeys.size >= MEMO_MAX_ENTRIES) importedKeys.clear();
    key = crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    // A failed import is not cached: the next request retries instead of inheriting it.
    key.catch(() => importedKeys.delete(memoKey));
    importedKeys.set(memoKey, key);
  }
  return key;
}

/** The runtime's WebCrypto Ed25519 (BoringSSL in workerd): cofactorless, R compared as bytes. */
export const webCryptoEd25519: Ed25519Backend = async (publicKey, signature, message) => {
  try {
    return await crypto.subtle.verify({ name: 'Ed25519' }, await importEd25519Key(publicKey), signature, message);
  } catch {
    return false;
  }
};

/**
 * @noble/ed25519 point arithmetic evaluating the same equation as WebCrypto: RFC 8032
 * §5.1.7 allows the cofactored or the cofactorless check, and BoringSSL/OpenSSL compute
 * R' = [S]B − [k]A and compare its encoding with R byte for byte. noble's own verify() is
 * cofactored, which accepts a signature whose R carries a small-order component that
 * WebCrypto refuses; evaluating the cofactorless form here gives both paths one verdict
 * (tested in webhooks-signatures.test.ts). S < L and the key checks run before either path.
 */
export const nobleEd25519: Ed25519Backend = async (publicKey, signature, message) => {
  try {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    const encodedR = signature.subarray(0, 32);
    const s = littleEndianToBigInt(signature.subarray(32));
    if (s >= ED25519_L) return false;
    const a = Point.fromBytes(publicKey, false);
    const k = etc.mod(littleEndianToBigInt(sha512(etc.concatBytes(encodedR, publicKey, message))), ED25519_L);
    const expectedR = Point.BASE.multiply(s, false).subtract(a.multiply(k, false));
    return constantTimeEqual(expectedR.toBytes(), encodedR);
  } catch {
    return false;
  }
};

/** RFC 8032 §7.1 TEST 1 public key: a known-good key to probe the runtime with. */
const PROBE_PUBLIC_KEY = hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a') as Uint8Array;
let selected: Promise<Ed25519Backend> | undefined;

/** WebCrypto where the runtime implements Ed25519, @noble/ed25519 otherwise; probed once per isolate. */
export function defaultEd25519Backend(): Promise<Ed25519Backend> {
  selected ??= crypto.subtle.importKey('raw', PROBE_PUBLIC_KEY, { name: 'Ed25519' }, false, ['verify']).then(
    () => webCryptoEd25519,
    () => nobleEd25519,
  );
  return selected;
}

/**
 * Verifies a Discord interaction: X-Signature-Ed25519 over X-Signature-Timestamp followed
 * by the raw body, no separator. Precedence (same numbers in docs/webhooks.md):
 *  1. both headers present                         else missing-headers
 *  2. signature exactly 128 hex chars (64 bytes)   else malformed-signature
 *  3. public key exactly 64 hex chars (32 bytes)   else malformed-public-key
 *  4. timestamp decimal Unix seconds               else malformed-timestamp
 *  5. timestamp within 5 minutes of now            else stale-timestamp
 *  6. S < L (RFC 8032 §5.1.7, checked here, not left to the library) else non-canonical-s
 *  7. public key canonical, prime-order subgroup   else unacceptable-public-key
 *  8. signature verifies                           else bad-signature
 *  9. otherwise reject — there is no other way to reach { ok: true }.
 */
export async function verifyDiscordSignature(input: DiscordSignatureInput, backend?: Ed25519Backend): Promise<DiscordVerdict> {
  const { signatureHex, timestamp } = input;
  // 1
  if (signatureHex === undefined || timestamp === undefined) return { ok: false, reason: 'missing-headers' };
  // 2
  const signature = signatureHex.length === SIGNATURE_HEX_CHARS && HEX.test(signatureHex) ? hexToBytes(signatureHex) : null;
  if (!signature) return { ok: false, reason: 'malformed-signature' };
  // 3
  const publicKey =
    input.publicKeyHex.length === PUBLIC_KEY_HEX_CHARS && HEX.test(input.publicKeyHex) ? hexToBytes(input.publicKeyHex) : null;
  if (!publicKey) return { ok: false, reason: 'malformed-public-key' };
  // 4, 5
  const fresh = checkTimestamp(timestamp, input.now);
  if (!fresh.ok) return { ok: false, reason: fresh.reason };
  // 6–8
  const message = etc.concatBytes(utf8(timestamp), input.rawBody);
  const verdict = await verifyEd25519Strict(publicKey, signature, message, backend ?? (await defaultEd25519Backend()));
  // 9
  return verdict === 'valid' ? { ok: true } : { ok: false, reason: verdict };
}

export type StrictEd25519Verdict = 'valid' | 'non-canonical-s' | 'unacceptable-public-key' | 'bad-signature';

/**
 * Steps 6–8 of verifyDiscordSignature on decoded bytes: the checks that make WebCrypto and
 * @noble/ed25519 reach the same verdict, then the backend.
 */
export async function verifyEd25519Strict(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
  backend: Ed25519Backend,
): Promise<StrictEd25519Verdict> {
  if (signature.length !== 64) return 'bad-signature';
  // 6: a signature with S + L would verify under an implementation that skips the range check.
  if (!isCanonicalScalar(signature.subarray(32))) return 'non-canonical-s';
  // 7
  if (publicKey.length !== 32 || !isAcceptableEd25519PublicKey(publicKey)) return 'unacceptable-public-key';
  // 8
  return (await backend(publicKey, signature, message)) ? 'valid' : 'bad-signature';
}
