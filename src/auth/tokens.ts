import { bytesToHex, encodeBase64Url, sha256Hex } from '../lib';

/** 256 bits: session tokens, CSRF tokens, invitation and reset tokens. */
export const TOKEN_BYTES = 32;

export function randomToken(bytes = TOKEN_BYTES): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Tokens are stored only as SHA-256. They carry 256 bits of entropy, so a fast hash is
 * enough: there is nothing to brute-force from a leaked hash.
 */
export function hashToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/** Re-exported for the setup route; the one definition is src/lib/constant-time.ts. */
export { timingSafeEqualText } from '../lib';

/** Short, non-reversible tag for an email in audit events (correlation without the address). */
export async function emailTag(email: string): Promise<string> {
  return (await sha256Hex(`portcullis:email:${email}`)).slice(0, 16);
}

export { bytesToHex };
