/**
 * The one set of constant-time comparisons (authentication, CSRF, setup tokens, password
 * tags, webhook signatures). None exits early, so the time taken does not tell an attacker
 * how many leading bytes were right.
 */
import { utf8 } from './encoding';

/**
 * Two byte strings. Lengths are compared first: every caller passes fixed-length values
 * (digests, MACs, encoded points), whose length is public.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/** Two texts of possibly different lengths: the length check is folded into the result, not short-circuited. */
export function timingSafeEqualText(a: string, b: string): boolean {
  const left = utf8(a);
  const right = utf8(b);
  const length = Math.max(left.length, right.length);
  let difference = left.length ^ right.length;
  for (let i = 0; i < length; i++) difference |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return difference === 0;
}

/**
 * Equality of two secrets of any length: both are hashed to 32 bytes first, so neither the
 * content nor the length of the expected secret leaks through timing.
 */
export async function secretsEqual(expected: string, presented: string): Promise<boolean> {
  const [a, b] = await Promise.all([crypto.subtle.digest('SHA-256', utf8(expected)), crypto.subtle.digest('SHA-256', utf8(presented))]);
  return constantTimeEqual(new Uint8Array(a), new Uint8Array(b));
}
