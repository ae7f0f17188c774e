import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import type { Env } from '../env';
import { fullBucket, takeToken, type TokenBucketRule, type TokenBucketState } from '../lib';
import { EVENT_SCOPES, eventFrame, LIVE_EVENT_TYPES, type LiveEvent, type LiveEventType } from './live-event';

/** A ticket lives this long: enough to open a socket right after asking for one, too short to be worth stealing. */
export const TICKET_TTL_MS = 30_000;
/** Live (unspent, unexpired) tickets one workspace may hold; past this, issuing is refused. */
export const MAX_LIVE_TICKETS = 1_000;
/** A connection is closed (4001) this long after it opened: its credential is re-checked by reconnecting. */
export const CONNECTION_MAX_AGE_MS = 15 * 60_000;
/** Open connections per workspace; past this a new upgrade is refused (the fan-out per event stays bounded). */
export const MAX_CONNECTIONS = 500;
/** The largest message a client may send (a subscribe filter fits in far less). */
export const CLIENT_MESSAGE_MAX_BYTES = 1_024;

/** Close codes (RFC 6455 §7.4.1; 4000–4999 are the application's own, §7.4.2). */
export const CLOSE = {
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  reauthenticate: 4001,
} as const;

/** What the Worker has already established about a connection before it asks the hub to accept it. */
export const ConnectionGrant = z.strictObject({
  workspaceId: z.string().min(1),
  scopes: z.array(z.string().min(1)).max(16),
  /** The per-connection message budget (the `events-client` rate-limit policy). */
  limit: z.strictObject({ perSecond: z.number().positive(), burst: z.number().int().min(1) }),
  now: z.number().int(),
});
export type ConnectionGrant = z.infer<typeof ConnectionGrant>;

/** Who asked for a ticket: the audit actor and the scopes the connection will read with. */
export interface TicketIssuer {
  actor: string;
  scopes: string[];
}

/** The header that carries the grant from the Worker to the hub (never from a client: the hub has no public route). */
export const GRANT_HEADER = 'X-Portcullis-Event-Grant';

/** Per-connection state. It lives in the socket's attachment, so it survives hibernation. */
interface Attachment {
  workspaceId: string;
  scopes: string[];
  expiresAt: number;
  /** null: every type the scopes allow; else only these (the client's subscribe filter). */
  types: LiveEventType[] | null;
  limit: TokenBucketRule;
  bucket: TokenBucketState;
}

const ClientMessage = z.strictObject({ type: z.literal('subscribe'), types: z.array(z.enum(LIVE_EVENT_TYPES)).min(1).max(8) });

const scopeTag = (scope: string) => `scope:${scope}`;

/**
 * One object per workspace (named by the workspace id): its live connections and its
 * unspent tickets. Connections use the WebSocket Hibernation API, so an idle workspace
 * costs nothing: the runtime holds the sockets, answers `ping` with `pong` itself (the
 * auto-response below never wakes the object), and rebuilds the object when an event is
 * published or a client sends something else. Nothing the object needs lives only in its
 * memory: each socket's state is in its attachment, tickets are in its SQLite storage.
 */
export class EventHub extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
    // Tickets: only the SHA-256 of each is stored (docs/storage.md "EventHub").
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS tickets (hash TEXT PRIMARY KEY, actor TEXT NOT NULL, scopes TEXT NOT NULL, expires_at INTEGER NOT NULL)',
    );
  }

  /** Stores a ticket's hash; false when the workspace already holds MAX_LIVE_TICKETS live ones. */
  storeTicket(hash: string, issuer: TicketIssuer, now: number): boolean {
    const sql = this.ctx.storage.sql;
    sql.exec('DELETE FROM tickets WHERE expires_at <= ?', now);
    const live = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM tickets').one().n;
    if (live >= MAX_LIVE_TICKETS) return false;
    sql.exec(
      'INSERT INTO tickets (hash, actor, scopes, expires_at) VALUES (?, ?, ?, ?)',
      hash,
      issuer.actor,
      JSON.stringify(issuer.scopes),
      now + TICKET_TTL_MS,
    );
    return true;
  }

  /**
   * Spends a ticket: one synchronous DELETE … RETURNING, so of two redemptions of the same
   * ticket exactly one gets its scopes (the object runs one call at a time, and nothing
   * awaits between the read and the delete). An expired ticket is deleted and refused.
   */
  spendTicket(hash: string, now: number): TicketIssuer | null {
    const [row] = this.ctx.storage.sql
      .exec<{ actor: string; scopes: string; expires_at: number }>(
        'DELETE FROM tickets WHERE hash = ? RETURNING actor, scopes, expires_at',
        hash,
      )
      .toArray();
    if (!row || row.expires_at <= now) return null;
    return { actor: row.actor, scopes: z.array(z.string()).parse(JSON.parse(row.scopes)) };
  }

  /** The WebSocket upgrade, forwarded by src/events-api after it checked Origin and the credential. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') return new Response(null, { status: 400 });
    const grant = ConnectionGrant.safeParse(parseJson(request.headers.get(GRANT_HEADER) ?? ''));
    if (!grant.success) return new Response(null, { status: 400 });
    if (this.ctx.getWebSockets().length >= MAX_CONNECTIONS) return new Response(null, { status: 503 });
    const { workspaceId, scopes, limit, now } = grant.data;
    const attachment: Attachment = {
      workspaceId,
      scopes,
      expiresAt: now + CONNECTION_MAX_AGE_MS,
      types: null,
      limit,
      bucket: fullBucket(limit, now),
    };
    // The audit log stops publishing while nobody listens: tell it first, so that every audit
    // event appended once this connection is open reaches it.
    await this.env.AUDIT_LOG.getByName(workspaceId).listening();
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    // Tagged by scope, so publish() asks the runtime for exactly the sockets that may read an event.
    this.ctx.acceptWebSocket(server, scopes.map(scopeTag));
    server.serializeAttachment(attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Delivers each event to the connections that may read it, in order (docs/events.md "Delivery"):
   * 1. only sockets tagged with one of the type's scopes are considered;
   * 2. a socket of another workspace never receives it (the object is per workspace; checked again);
   * 3. a socket past its age is closed with 4001 instead;
   * 4. a socket whose subscribe filter leaves the type out is skipped;
   * 5. otherwise the frame is sent; a socket that cannot take it is left to its close handler.
   * Returns how many connections the hub holds: 0 tells the audit log it may stop publishing
   * until `fetch` below says a listener is back.
   */
  publish(events: readonly LiveEvent[]): number {
    const now = Date.now();
    for (const event of events) this.#deliver(event, now);
    return this.ctx.getWebSockets().length;
  }

  #deliver(event: LiveEvent, now: number): void {
    const frame = eventFrame(event);
    const sockets = new Set(EVENT_SCOPES[event.type].flatMap((scope) => this.ctx.getWebSockets(scopeTag(scope))));
    for (const ws of sockets) {
      const attachment = ws.deserializeAttachment() as Attachment | null;
      if (!attachment || attachment.workspaceId !== event.workspaceId) continue;
      if (now >= attachment.expiresAt) {
        closeQuietly(ws, CLOSE.reauthenticate, 'connection expired; reconnect');
        continue;
      }
      if (attachment.types && !attachment.types.includes(event.type)) continue;
      try {
        ws.send(frame);
      } catch {
        // Closing or closed: webSocketClose cleans up.
      }
    }
  }

  /**
   * A client message that is not the auto-answered `ping`, in order:
   * 1. binary → close 1003; 2. larger than CLIENT_MESSAGE_MAX_BYTES → close 1009;
   * 3. over the connection's `events-client` budget → close 1008;
   * 4. connection past its age → close 4001;
   * 5. `ping` (when the runtime passed it on) → `pong`; a valid subscribe → filter stored, acknowledged;
   * 6. anything else → close 1008.
   */
  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const attachment = ws.deserializeAttachment() as Attachment | null;
    if (!attachment) return closeQuietly(ws, CLOSE.policyViolation, 'unknown connection');
    if (typeof message !== 'string') return closeQuietly(ws, CLOSE.unsupportedData, 'text messages only');
    if (new TextEncoder().encode(message).byteLength > CLIENT_MESSAGE_MAX_BYTES) return closeQuietly(ws, CLOSE.tooBig, 'message too big');
    const now = Date.now();
    const taken = takeToken(attachment.bucket, attachment.limit, now);
    if (!taken.allowed) return closeQuietly(ws, CLOSE.policyViolation, 'message rate limit exceeded');
    attachment.bucket = taken.state;
    if (now >= attachment.expiresAt) return closeQuietly(ws, CLOSE.reauthenticate, 'connection expired; reconnect');
    if (message === 'ping') {
      ws.serializeAttachment(attachment);
      return ws.send('pong');
    }
    const parsed = ClientMessage.safeParse(parseJson(message));
    if (!parsed.success) return closeQuietly(ws, CLOSE.policyViolation, 'unsupported message');
    attachment.types = [...new Set(parsed.data.types)];
    ws.serializeAttachment(attachment);
    ws.send(JSON.stringify({ type: 'subscribed', types: attachment.types }));
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    // Complete the closing handshake; 1005/1006 are never sent on the wire (RFC 6455 §7.4.1).
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, '');
  }

  override webSocketError(ws: WebSocket): void {
    closeQuietly(ws, 1011, 'error');
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}
