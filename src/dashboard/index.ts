/**
 * The operator dashboard (docs/dashboard.md): server-rendered pages at `/` and below that call
 * the same domain functions as the REST API. Every page: its own CSP (csp.ts), no script but
 * the live-updates file (assets/live-updates.js.txt, allowed by its hash),
 * `Cache-Control: no-store` (http/security-headers.ts), forms checked by the session's CSRF
 * token (session.ts), values escaped by hono/jsx.
 */
import { Hono } from 'hono';
import type { Clock, SignInDeps } from '../auth';
import type { AppEnv } from '../env';
import { ICON_PATH, LIVE_UPDATES_PATH, serveIcon, serveLiveUpdates, serveStylesheet, STYLESHEET_PATH } from './assets';
import { pagePolicy } from './csp';
import { errorPage } from './error-page';
import { accountPages } from './pages/account';
import { agentDetailPages } from './pages/agent';
import { agentSettingsPages } from './pages/agent-settings';
import { agentPages } from './pages/agents';
import { approvalPages } from './pages/approvals';
import type { ApprovalHook } from '../tools';
import { auditPages } from './pages/audit';
import { authPages } from './pages/auth';
import { conversationPages } from './pages/conversations';
import { homePages } from './pages/home';
import { keyPages } from './pages/keys';
import { credentialPages } from './pages/credentials';
import { memberPages } from './pages/members';
import { toolPages } from './pages/tool';
import { usagePages } from './pages/usage';
import { formPost } from './session';

export { PAGE_CSP } from './csp';
export { CSRF_FIELD } from './session';

/** The dashboard's top-level paths; its middleware runs on these only, never on /api, /hooks or /healthz. */
export const DASHBOARD_PATHS = [
  '/setup',
  '/sign-in',
  '/sign-out',
  '/keys',
  '/agents',
  '/approvals',
  '/invocations',
  '/audit',
  '/members',
  '/credentials',
  '/account',
  '/accept-invite',
  '/reset',
] as const;

/** Whether a route path is one of the dashboard's (pages, its stylesheet and icon). */
export function isDashboardPath(path: string): boolean {
  if (path === '/' || path === '/favicon.ico' || path.startsWith('/assets/')) return true;
  return DASHBOARD_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

export interface DashboardDeps extends SignInDeps {
  now: Clock;
  fetch: typeof fetch;
  /** The agent runtime's resumeOnDecision: a decision made on a page wakes a paused turn too. */
  onApprovalDecided?: ApprovalHook;
}

export function dashboardRoutes(deps: DashboardDeps) {
  const router = new Hono<AppEnv>();
  router.get(STYLESHEET_PATH, (c) => serveStylesheet(c));
  router.get(ICON_PATH, (c) => serveIcon(c));
  router.get(LIVE_UPDATES_PATH, (c) => serveLiveUpdates(c));
  router.get('/favicon.ico', (c) => c.redirect(ICON_PATH, 301));
  router.use('/', pagePolicy(), formPost());
  for (const path of DASHBOARD_PATHS) router.use(path, pagePolicy(), formPost()).use(`${path}/*`, pagePolicy(), formPost());
  router.route('/', homePages(deps.now));
  router.route('/', authPages(deps));
  router.route('/', accountPages(deps));
  router.route('/', keyPages(deps.now));
  router.route('/', agentPages(deps.now));
  router.route('/', agentDetailPages(deps));
  router.route('/', agentSettingsPages(deps.now));
  router.route('/', conversationPages(deps.now));
  router.route('/', usagePages(deps.now));
  router.route('/', toolPages(deps));
  router.route('/', approvalPages(deps));
  router.route('/', auditPages(deps.now));
  router.route('/', memberPages(deps.now));
  router.route('/', credentialPages(deps.now));
  router.onError(errorPage);
  return router;
}
