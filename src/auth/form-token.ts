import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeBase64Url, utf8 } from '../lib';

/**
 * The CSRF token of a session's HTML forms (the dashboard's `_csrf` field): HMAC-SHA256 keyed
 * by the session token itself, over a fixed label. Derived, not stored, so every live session
 * has one however it was created (the dashboard's sign-in or POST /api/v1/auth/login) and no
 * second cookie is needed. It is as unguessable as the session token (which only the HttpOnly
 * cookie holds, and D1 keeps only as a hash), reveals nothing about it (HMAC is one-way), and
 * differs from the API's X-CSRF-Token, so neither satisfies the other's check. Synchronous
 * (@noble/hashes) so a page can render it without awaiting.
 */
const FORM_TOKEN_LABEL = 'portcullis dashboard form csrf v1';

export function sessionFormToken(sessionToken: string): string {
  return encodeBase64Url(hmac(sha256, utf8(sessionToken), utf8(FORM_TOKEN_LABEL)));
}
