/**
 * Masked form shown wherever a secret is listed: `••••` + the last 4 characters, or `••••`
 * alone when the secret is shorter than MASK_REVEAL_MIN_CHARS. At 12 characters, showing 4
 * still leaves at least 8 unknown; below that the last 4 would be a large share of the
 * secret (and of a short PIN-like value, most of it). Characters are Unicode code points,
 * so a masked value never ends in half a surrogate pair.
 */
export const MASK = '••••';
export const MASK_REVEAL_MIN_CHARS = 12;
const REVEALED_CHARS = 4;

export function maskSecret(value: string): string {
  const chars = Array.from(value);
  if (chars.length < MASK_REVEAL_MIN_CHARS) return MASK;
  return MASK + chars.slice(-REVEALED_CHARS).join('');
}
