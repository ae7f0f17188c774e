/** Pure helpers with no platform imports: this folder imports nothing from the rest of the code base (docs/architecture.md). */
export { canonicalJson } from './canonical-json';
export { bytesToHex, hexToBytes, sha256Hex, sha256HexSync, truncateUtf8, utf8 } from './encoding';
export { REDACTED, redactTokenShapes } from './redact-token-shapes';
export { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from './base64';
