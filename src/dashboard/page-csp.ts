// No imports: the browser tests (Node) read the same constants.
/**
 * SHA-256 (base64) of src/dashboard/assets/live-updates.js.txt, byte for byte: the one script a
 * page may run. A change to that file must change this value, or browsers refuse the script
 * (test/workers/dashboard-live.test.ts compares the two).
 */
export const LIVE_UPDATES_SHA256 = 'sha256-m/2G2n3psHXg3GqEryUWxauPf0ZACxoR81ZZGnQpezE=';

/**
 * The Content-Security-Policy of every dashboard page (the API keeps `default-src 'none'`).
 * Every flow is an HTML form; the only script is the live-updates file, allowed by its hash
 * alone (CSP3 matches the `integrity` of an external script against hash sources), so no
 * other script runs, inline or same-origin: no 'self', no 'unsafe-inline', no 'unsafe-eval'.
 * `connect-src 'self'` lets that script open the gateway's own events WebSocket (CSP3 'self'
 * covers ws:/wss: of the same host). Styles come from the Worker's own /assets/app.css only
 * (no inline style), forms post only to this origin, and no page may be framed.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src '${LIVE_UPDATES_SHA256}'`,
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');
