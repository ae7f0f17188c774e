/** Pure helpers with no platform imports: this folder imports nothing from the rest of the code base (docs/architecture.md). */
export { canonicalJson } from './canonical-json';
export { bytesToHex, hexToBytes, sha256Hex, sha256HexSync, truncateUtf8, utf8 } from './encoding';
export { REDACTED, redactTokenShapes } from './redact-token-shapes';
export { decodeBase64, decodeBase64Unpadded, decodeBase64Url, encodeBase64, encodeBase64Unpadded, encodeBase64Url } from './base64';
export { parseBearer, type BearerHeader } from './bearer';
export { constantTimeEqual, secretsEqual, timingSafeEqualText } from './constant-time';
export { SESSION_COOKIE, SESSION_COOKIE_NAME } from './cookies';
export { formatIPv4, formatIPv6, parseIPv4Dotted, parseIPv6 } from './ip';
export { fullBucket, takeToken, type TokenBucketRule, type TokenBucketState } from './token-bucket';
export { createLogThrottle, type LogThrottle } from './log-throttle';
