import { bytesToHex, sha256Hex, utf8 } from '../lib';

/** 256 bits: session tokens, CSRF tokens, invitation and reset tokens. */
export const TOKEN_BYTES = 32;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export function randomToken(bytes = TOKEN_BYTES): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Tokens are stored only as SHA-256. They carry 256 bits of entropy, so a fast hash is
 * enough: there is nothing to brute-force from a leaked hash.
 */
export function hashToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/** Constant-time equality for secrets of possibly different lengths. */
export function timingSafeEqualText(a: string, b: string): boolean {
  const left = utf8(a);
  const right = utf8(b);
  // Compare equal-length buffers so the time does not depend on where they differ;
  // the length check is folded into the result, not short-circuited.
  const length = Math.max(left.length, right.length);
  let diff = left.length ^ right.length;
  for (let i = 0; i < length; i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}

/** Short, non-reversible tag for an email in audit events (correlation without the address). */
export async function emailTag(email: string): Promise<string> {
  return (await sha256Hex(`portcullis:email:${email}`)).slice(0, 16);
}

export { bytesToHex };
