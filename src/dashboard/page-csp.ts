// No imports: the browser tests (Node) read the same constant.
/**
 * The Content-Security-Policy of every dashboard page (the API keeps `default-src 'none'`).
 * The pages run no script at all: every flow is an HTML form, so `script-src 'none'` is
 * stricter than any hash or nonce. Styles come from the Worker's own /assets/app.css only
 * (no inline style), forms post only to this origin, and no page may be framed.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
