/**
 * The one reading of `Authorization: Bearer <token>`. Authentication and the rate limiter's
 * credential bucket both call it: if they read the header differently, a client could be
 * authenticated by a key while being counted under a cookie or address it rotates at will.
 *
 * Grammar: RFC 6750 §2.1, `"Bearer" 1*SP b64token`, the scheme case-insensitive (RFC 9110
 * §11.1); optional white space (SP, HTAB) around the value is ignored (RFC 9110 §5.5).
 * First match wins:
 * 1. no header, or an empty one → absent;
 * 2. scheme Bearer, one or more spaces, a b64token (plus ":"), nothing else → the token;
 * 3. anything else (another scheme, a stray character, two tokens) → malformed.
 */
export type BearerHeader = { kind: 'absent' } | { kind: 'token'; token: string } | { kind: 'malformed' };

/**
 * b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", and ":": the OAuth
 * access tokens of @cloudflare/workers-oauth-provider are `userId:grantId:secret` (src/mcp/oauth/).
 * Still one token of visible ASCII with no space, quote or comma, so the header stays unambiguous.
 */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/:]+=*)$/i;
const OWS = /^[ \t]+|[ \t]+$/g;

export function parseBearer(header: string | null | undefined): BearerHeader {
  const value = (header ?? '').replace(OWS, '');
  if (value === '') return { kind: 'absent' }; // 1
  const match = BEARER.exec(value);
  if (match?.[1]) return { kind: 'token', token: match[1] }; // 2
  return { kind: 'malformed' }; // 3
}
