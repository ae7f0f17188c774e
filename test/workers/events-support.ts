import { expect } from 'vitest';
import { ORIGIN, send } from './helpers';
import { asKey, asSession, type Session } from './identity-helpers';

/** One open client socket with everything it received, in order. */
export interface Client {
  ws: WebSocket;
  received: string[];
  /** Resolves with the next message that matches (already received ones count), or rejects when the socket closes first. */
  next(match?: (frame: string) => boolean): Promise<string>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Sends the upgrade the way a client does; the Response tells whether the gateway accepted it. */
export function upgrade(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return send(path, { headers: { Upgrade: 'websocket', ...headers } });
}

/** Accepts the client end of an upgraded response and records what arrives. */
export function clientOf(res: Response): Client {
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error('no webSocket on a 101 response');
  ws.accept();
  const received: string[] = [];
  const waiters: Array<{ match: (frame: string) => boolean; resolve: (frame: string) => void; reject: (error: Error) => void }> = [];
  let closedInfo: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener('close', (event) => {
      closedInfo = { code: event.code, reason: event.reason };
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`closed ${event.code} ${event.reason}`));
      resolve(closedInfo);
    });
  });
  ws.addEventListener('message', (event) => {
    const frame = typeof event.data === 'string' ? event.data : '<binary>';
    received.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.match(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  return {
    ws,
    received,
    closed,
    next(match = () => true) {
      const seen = received.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      if (closedInfo) return Promise.reject(new Error(`closed ${closedInfo.code}`));
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
  };
}

export async function ticketFor(session: Session): Promise<string> {
  const res = await asSession(session, '/api/v1/events/tickets', { method: 'POST' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { ticket: string }).ticket;
}

export async function ticketForKey(key: string): Promise<string> {
  const res = await asKey(key, '/api/v1/events/tickets', { method: 'POST' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { ticket: string }).ticket;
}

/** A connection opened with a fresh ticket of `session`, from the gateway's own origin. */
export async function connect(session: Session): Promise<Client> {
  return clientOf(await upgrade(`/api/v1/events?ticket=${encodeURIComponent(await ticketFor(session))}`, { Origin: ORIGIN }));
}

/** A parsed event frame. */
export function parsed(frame: string): { type: string; at: number; data: Record<string, unknown> } {
  return JSON.parse(frame) as { type: string; at: number; data: Record<string, unknown> };
}

/** Matches the audit frame of `kind`. */
export function auditOf(kind: string) {
  return (frame: string) => frame.startsWith('{') && parsed(frame).type === 'audit' && parsed(frame).data.kind === kind;
}
