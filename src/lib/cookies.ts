/** Cookie name without its prefix; Hono adds `__Host-` (prefix: 'host'), which forces Secure, Path=/ and no Domain. */
export const SESSION_COOKIE_NAME = 'portcullis_session';
/** The name as it travels (`__Host-` prefix: RFC 6265bis §4.1.3.2). */
export const SESSION_COOKIE = `__Host-${SESSION_COOKIE_NAME}`;
