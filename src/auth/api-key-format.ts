/**
 * API key format: `pcl_` + 43 base62 characters (256 random bits) + 6 base62 characters of
 * CRC32 over the random part. The fixed prefix and the checksum let secret scanners (and
 * our own redaction) recognise a key with no false positives, and let the gateway refuse a
 * mistyped or made-up key before touching the database. The checksum is not a secret and
 * adds no security; the 256 random bits do.
 */
export const API_KEY_PREFIX = 'pcl_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_BYTES = 32;
const BODY_CHARS = 43; // ceil(256 / log2(62))
const CHECKSUM_CHARS = 6; // 62^6 > 2^32

function toBase62(value: bigint, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = (CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  return toBase62(BigInt(crc32(body)), CHECKSUM_CHARS);
}

export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(RANDOM_BYTES));
  const value = bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  const body = toBase62(value, BODY_CHARS);
  return `${API_KEY_PREFIX}${body}${checksum(body)}`;
}

const KEY_SHAPE = new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${BODY_CHARS + CHECKSUM_CHARS}}$`);

/** True when the text has the key's shape and a valid checksum. */
export function isWellFormedApiKey(key: string): boolean {
  if (!KEY_SHAPE.test(key)) return false;
  const body = key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + BODY_CHARS);
  return key.slice(-CHECKSUM_CHARS) === checksum(body);
}

/** What listings show: enough to recognise a key, never enough to use it. */
export function apiKeyDisplayParts(key: string): { prefix: string; last4: string } {
  return { prefix: key.slice(0, API_KEY_PREFIX.length + 4), last4: key.slice(-4) };
}
