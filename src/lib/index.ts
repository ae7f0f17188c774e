/** Pure helpers with no platform imports; src/policy/ may import only from here. */
export { canonicalJson } from './canonical-json';
export { bytesToHex, hexToBytes, sha256Hex, sha256HexSync, truncateUtf8, utf8 } from './encoding';
export { REDACTED, redactTokenShapes } from './redact-token-shapes';
