import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeBase64Url, utf8 } from '../lib';

/**
 * The CSRF token of a server-rendered form: HMAC-SHA256 keyed by the session token itself, over
 * a label naming what the form is for. Derived, not stored, so every live session has one
 * however it was created (the dashboard's sign-in or POST /api/v1/auth/login) and no second
 * cookie is needed. It is as unguessable as the session token (which only the HttpOnly cookie
 * holds, and D1 keeps only as a hash), reveals nothing about it (HMAC is one-way), and differs
 * from the API's X-CSRF-Token and between purposes, so none satisfies another's check.
 * Labels must not be prefixes of one another's messages (each starts with its own fixed text).
 * Synchronous (@noble/hashes) so a page can render it without awaiting.
 */
export function sessionBoundToken(sessionToken: string, purpose: string): string {
  return encodeBase64Url(hmac(sha256, utf8(sessionToken), utf8(purpose)));
}

/** The purpose of the dashboard's forms (the `_csrf` field), one token for all of them. */
const DASHBOARD_FORM_PURPOSE = 'portcullis dashboard form csrf v1';

export function sessionFormToken(sessionToken: string): string {
  return sessionBoundToken(sessionToken, DASHBOARD_FORM_PURPOSE);
}
