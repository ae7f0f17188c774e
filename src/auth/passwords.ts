import { argon2idAsync } from '@noble/hashes/argon2.js';
import { utf8 } from '../lib';
import { decodeBase64Unpadded, encodeBase64Unpadded, timingSafeEqualText } from '../lib';

/**
 * Argon2id at the OWASP Password Storage Cheat Sheet's first recommended setting
 * (m = 19 MiB, t = 2, p = 1). Stored as a PHC string, so parameters can be raised later:
 * verifyPassword reports when a stored hash is weaker than this and login rehashes it.
 */
export const ARGON2_PARAMS = { m: 19456, t: 2, p: 1 } as const;
const SALT_BYTES = 16;
const TAG_BYTES = 32;
/** Refuse to run hashes an attacker-controlled row could make arbitrarily expensive. */
const MAX_MEMORY_KIB = 262144;
const MAX_PASSES = 10;

interface PhcArgon2id {
  m: number;
  t: number;
  p: number;
  salt: Uint8Array;
  tag: Uint8Array;
}

/** Parses `$argon2id$v=19$m=…,t=…,p=…$<salt>$<tag>` (unpadded base64); null if anything is off. */
export function parsePhc(encoded: string): PhcArgon2id | null {
  const match = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(encoded);
  if (!match) return null;
  const [, m, t, p, saltText, tagText] = match;
  const salt = decodeBase64Unpadded(saltText ?? '');
  const tag = decodeBase64Unpadded(tagText ?? '');
  const params = { m: Number(m), t: Number(t), p: Number(p) };
  if (!salt || !tag || salt.length < 8 || tag.length < 16) return null;
  if (params.p < 1 || params.t < 1 || params.t > MAX_PASSES || params.m < 8 * params.p || params.m > MAX_MEMORY_KIB) return null;
  return { ...params, salt, tag };
}

export function formatPhc(phc: PhcArgon2id): string {
  return `$argon2id$v=19$m=${phc.m},t=${phc.t},p=${phc.p}$${encodeBase64Unpadded(phc.salt)}$${encodeBase64Unpadded(phc.tag)}`;
}

/** The Argon2id implementation (@noble/hashes); injectable so tests can count the work done. */
export type Argon2id = typeof argon2idAsync;

async function derive(kdf: Argon2id, password: string, salt: Uint8Array, params: { m: number; t: number; p: number }, dkLen: number) {
  return kdf(utf8(password), salt, { ...params, dkLen, maxmem: (MAX_MEMORY_KIB + 1024) * 1024 });
}

export async function hashPassword(
  password: string,
  params: { m: number; t: number; p: number } = ARGON2_PARAMS,
  kdf: Argon2id = argon2idAsync,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return formatPhc({ ...params, salt, tag: await derive(kdf, password, salt, params, TAG_BYTES) });
}

export type PasswordCheck = { ok: true; needsRehash: boolean } | { ok: false };

/** Constant-time comparison of the derived tag; a malformed stored hash never verifies. */
export async function verifyPassword(password: string, encoded: string, kdf: Argon2id = argon2idAsync): Promise<PasswordCheck> {
  const phc = parsePhc(encoded);
  if (!phc) return { ok: false };
  const tag = await derive(kdf, password, phc.salt, phc, phc.tag.length);
  if (!timingSafeEqualText(encodeBase64Unpadded(tag), encodeBase64Unpadded(phc.tag))) return { ok: false };
  const needsRehash = phc.m < ARGON2_PARAMS.m || phc.t < ARGON2_PARAMS.t || phc.tag.length < TAG_BYTES;
  return { ok: true, needsRehash };
}

/**
 * A real Argon2id hash (current parameters) of 32 random bytes nobody kept. Logins for an
 * unknown email, or a user without a password yet, verify against it, so they cost the same
 * Argon2id work as a wrong password. It is a constant so the first such login in an isolate
 * is not slower (no lazy hashing to time).
 */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$prP3n3Gm1g9BPPyicPW6oA$ixlqKnooBmrcyp0JgLxUuBvoNs/rGg7gpOP/nCYGGd0';
export async function dummyPasswordHash(): Promise<string> {
  return DUMMY_HASH;
}
