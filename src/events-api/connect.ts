import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { recordAudit } from '../audit';
import { actorOfPrincipal, authenticate, principalOf } from '../auth';
import type { AppEnv } from '../env';
import { GRANT_HEADER, type ConnectionGrant } from '../events';
import { ApiError, clockOf, isAllowedOrigin, parseAllowedOrigins } from '../http';
import { SESSION_COOKIE_NAME } from '../lib';
import { loadPolicyTable } from '../ratelimit';
import { spendEventTicket } from './tickets';

/** The hub is reached only through its binding; this URL is never resolved. */
const HUB_CONNECT_URL = 'https://event-hub.internal/connect';

/**
 * GET /api/v1/events, in order; the first that applies decides (docs/events.md "Opening a
 * connection" has the same numbers):
 * 1. an `Origin` that is neither the gateway's own nor in ALLOWED_ORIGINS (`null`,
 *    look-alikes such as `http://localhost.evil.example`) → 403, before any credential is read;
 * 2. an `Authorization` header → 401 (an API key never opens a socket: POST a ticket with it);
 *    neither `?ticket=` nor a session cookie → 401;
 * 3. not a WebSocket upgrade → 400;
 * 4a. a ticket (it wins over a cookie, as the explicit credential): spent at once, whatever
 *     follows; malformed, unknown, spent or expired → 401. No `Origin` is acceptable here:
 *     a script is not a browser, and a ticket cannot be sent by a page it was not given to;
 * 4b. a session cookie: no `Origin` at all → 403 (browsers always send one on a WebSocket
 *     handshake, RFC 6455 §4.1, so a cookie without one did not come from a page of ours),
 *     then the session must be valid → 401 (auth's authenticate(), as on every route);
 * 5. RATE_LIMITS malformed → 503 (fail closed: the message budget is a limit like the others);
 * 6. the caller's workspace hub (from the credential, never from the URL) accepts → 101,
 *    else (MAX_CONNECTIONS reached) → 503;
 * 7. the opening is audited (`events.connection.opened`: actor, via, scopes).
 */
export async function openEventStream(c: Context<AppEnv>): Promise<Response> {
  const origin = c.req.header('Origin');
  // 1.
  if (origin !== undefined && !isAllowedOrigin(origin, c.req.url, parseAllowedOrigins(c.env.ALLOWED_ORIGINS))) {
    throw new ApiError('FORBIDDEN', 'That origin may not open this connection.');
  }
  // 2.
  if (c.req.header('Authorization') !== undefined) {
    throw new ApiError('UNAUTHENTICATED', 'Open the connection with a ticket (POST /api/v1/events/tickets) or a session.');
  }
  const ticket = c.req.query('ticket');
  const cookie = getCookie(c, SESSION_COOKIE_NAME, 'host');
  if (ticket === undefined && !cookie) throw new ApiError('UNAUTHENTICATED');
  // 3.
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('VALIDATION_ERROR', 'This route only accepts a WebSocket upgrade.');
  }
  const now = clockOf(c)();
  let grant: { workspaceId: string; scopes: string[] };
  let opener: { via: 'ticket' | 'session'; actor: string };
  if (ticket !== undefined) {
    // 4a.
    const spent = await spendEventTicket(c.env, ticket, now);
    if (!spent) throw new ApiError('UNAUTHENTICATED');
    grant = { workspaceId: spent.workspaceId, scopes: spent.scopes };
    opener = { via: 'ticket', actor: spent.actor };
  } else {
    // 4b.
    if (origin === undefined) throw new ApiError('FORBIDDEN', 'A session connection must come from a page (send Origin), or use a ticket.');
    await authenticate()(c, async () => {});
    const principal = principalOf(c);
    grant = { workspaceId: principal.workspaceId, scopes: [...principal.scopes] };
    opener = { via: 'session', actor: actorOfPrincipal(principal) };
  }
  // 5.
  const table = loadPolicyTable(c.env.RATE_LIMITS);
  if (!table.ok) throw new ApiError('SERVICE_UNAVAILABLE');
  const policy = table.policies['events-client'];
  const connection: ConnectionGrant = { ...grant, limit: { perSecond: policy.limit / policy.windowS, burst: policy.limit }, now };
  // 6.
  const res = await c.env.EVENT_HUB.getByName(grant.workspaceId).fetch(HUB_CONNECT_URL, {
    headers: { Upgrade: 'websocket', [GRANT_HEADER]: JSON.stringify(connection) },
  });
  if (res.status !== 101 || !res.webSocket) throw new ApiError('SERVICE_UNAVAILABLE');
  // 7. Who watches is on the record (never the ticket).
  await recordAudit(
    c.env,
    {
      workspaceId: grant.workspaceId,
      kind: 'events.connection.opened',
      actor: opener.actor,
      data: { via: opener.via, scopes: grant.scopes },
    },
    now,
  );
  // A fresh Response: the middleware that adds security headers needs headers it may change.
  return new Response(null, { status: 101, webSocket: res.webSocket });
}
