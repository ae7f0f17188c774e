import type { Context } from 'hono';
import type { AppEnv } from '../env';
import appCss from './assets/app.css';
// `.js.txt`: wrangler's bundler always compiles a `.js` import as code; the default *.txt rule
// bundles it as text instead (eslint.config.js still lints it as a browser script).
import liveUpdatesJs from './assets/live-updates.js.txt';

/** The dashboard's one stylesheet: bundled as a text module (wrangler.toml [[rules]]), served by the Worker. */
export const STYLESHEET_PATH = '/assets/app.css';

/** The tab icon, same origin (img-src 'self'), so browsers do not log a missing /favicon.ico. */
export const ICON_PATH = '/assets/icon.svg';
const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0d1b2a"/><path d="M3 3h10v2H3zm1 3h2v7H4zm3 0h2v7H7zm3 0h2v7h-2z" fill="#ffbf47"/></svg>';

export function serveIcon(c: Context<AppEnv>): Response {
  return c.body(ICON_SVG, 200, { 'Content-Type': 'image/svg+xml' });
}

export function serveStylesheet(c: Context<AppEnv>): Response {
  return c.body(appCss, 200, { 'Content-Type': 'text/css; charset=utf-8' });
}

/** The live-updates script (the only one pages run; page-csp.ts allows it by its SHA-256). */
export const LIVE_UPDATES_PATH = '/assets/live-updates.js';

export function serveLiveUpdates(c: Context<AppEnv>): Response {
  return c.body(liveUpdatesJs, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
}
