import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { hashToken } from '../../src/auth';
import { TICKET_TTL_MS } from '../../src/events';
import { expectError, ORIGIN, send } from './helpers';
import { asSession, createKey, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';
import { clientOf, ticketFor, ticketForKey, upgrade } from './events-support';

let owner: Session;
beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
});

async function refusedTicket(ticket: string): Promise<void> {
  const res = await upgrade(`/api/v1/events?ticket=${encodeURIComponent(ticket)}`, { Origin: ORIGIN });
  expect(res.webSocket).toBeNull();
  await expectError(res, 401, 'UNAUTHENTICATED');
}

/** The tickets a workspace's hub holds, as stored. */
function storedTickets(workspaceId: string) {
  return runInDurableObject(env.EVENT_HUB.getByName(workspaceId), (_hub, state) =>
    state.storage.sql
      .exec<{ hash: string; actor: string; scopes: string; expires_at: number }>('SELECT hash, actor, scopes, expires_at FROM tickets')
      .toArray(),
  );
}

describe('POST /api/v1/events/tickets', () => {
  it('issues a 30 s ticket to a signed-in caller and stores only its SHA-256', async () => {
    const before = Date.now();
    const res = await asSession(owner, '/api/v1/events/tickets', { method: 'POST' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { ticket: string; expiresAt: number };
    expect(body.ticket).toMatch(/^ws_[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
    expect(body.ticket.startsWith(`${owner.workspaceId}.`)).toBe(true);
    expect(body.expiresAt - before).toBeGreaterThanOrEqual(TICKET_TTL_MS);
    expect(TICKET_TTL_MS).toBe(30_000);
    const stored = await storedTickets(owner.workspaceId);
    const hash = await hashToken(body.ticket);
    const row = stored.find((r) => r.hash === hash);
    expect(row?.actor).toBe(`user:${owner.userId}`);
    expect(JSON.parse(row?.scopes ?? '[]')).toContain('audit:read');
    expect(JSON.stringify(stored)).not.toContain(body.ticket.split('.')[1]);
  });

  it('refuses an anonymous caller (401) and a session without its CSRF token (403), issuing nothing', async () => {
    const before = (await storedTickets(owner.workspaceId)).length;
    await expectError(await send('/api/v1/events/tickets', { method: 'POST' }), 401, 'UNAUTHENTICATED');
    await expectError(
      await send('/api/v1/events/tickets', { method: 'POST', headers: { Cookie: owner.cookie, Origin: ORIGIN } }),
      403,
      'CSRF_FAILED',
    );
    expect((await storedTickets(owner.workspaceId)).length).toBe(before);
  });
});

describe('opening a connection is audited', () => {
  it('records events.connection.opened with the ticket’s issuer (the API key), via and scopes, never the ticket', async () => {
    const { id, key } = await createKey(owner, ['agents:read']);
    const ticket = await ticketForKey(key);
    clientOf(await upgrade(`/api/v1/events?ticket=${ticket}`)).ws.close(1000);
    clientOf(await upgrade('/api/v1/events', { Origin: ORIGIN, Cookie: owner.cookie })).ws.close(1000);
    const rows = await env.DB.prepare("SELECT actor, data FROM audit_events WHERE kind = 'events.connection.opened' ORDER BY seq").all<{
      actor: string;
      data: string;
    }>();
    const opened = rows.results.map((r) => ({ actor: r.actor, data: JSON.parse(r.data) as unknown }));
    expect(opened).toContainEqual({ actor: `api_key:${id}`, data: { via: 'ticket', scopes: ['agents:read'] } });
    expect(opened).toContainEqual(
      expect.objectContaining({ actor: `user:${owner.userId}`, data: expect.objectContaining({ via: 'session' }) }),
    );
    expect(JSON.stringify(rows.results)).not.toContain(ticket.split('.')[1]);
  });
});

describe('a ticket opens one connection, once', () => {
  it('works once; the second use is refused (401) and the stored hash is gone', async () => {
    const ticket = await ticketFor(owner);
    clientOf(await upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: ORIGIN })).ws.close(1000);
    await refusedTicket(ticket);
    expect((await storedTickets(owner.workspaceId)).map((row) => row.hash)).not.toContain(await hashToken(ticket));
  });

  it('of two simultaneous redemptions of one ticket, exactly one connects', async () => {
    const ticket = await ticketFor(owner);
    const results = await Promise.all([1, 2, 3].map(() => upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: ORIGIN })));
    expect(results.map((res) => res.status).sort()).toEqual([101, 401, 401]);
    for (const res of results) if (res.webSocket) clientOf(res).ws.close(1000);
  });

  it('refuses an expired ticket (issued more than 30 s ago) and deletes it', async () => {
    // Issued by the same app with a clock 60 s behind: the ticket expired 30 s before the real now.
    const past = createApp({ loginThrottle: testThrottle, now: () => Date.now() - 60_000 });
    const res = await past.fetch(
      new Request(`${ORIGIN}/api/v1/events/tickets`, {
        method: 'POST',
        headers: { Cookie: owner.cookie, 'X-CSRF-Token': owner.csrfToken, 'CF-Connecting-IP': '198.51.100.7' },
      }),
      env,
    );
    expect(res.status).toBe(201);
    const { ticket, expiresAt } = (await res.json()) as { ticket: string; expiresAt: number };
    expect(expiresAt).toBeLessThan(Date.now());
    await refusedTicket(ticket);
    expect((await storedTickets(owner.workspaceId)).map((row) => row.hash)).not.toContain(await hashToken(ticket));
  });

  it.each([
    ['an unknown ticket of the right shape', (t: string) => `${t.split('.')[0]}.${'A'.repeat(43)}`],
    ['a ticket with its workspace prefix swapped for another', (t: string) => `ws_${'0'.repeat(32)}.${t.split('.')[1]}`],
    ['a ticket with its secret truncated', (t: string) => t.slice(0, -1)],
    ['a ticket with a character appended', (t: string) => `${t}A`],
    ['the secret alone', (t: string) => t.split('.')[1] ?? ''],
    ['the SHA-256 stored for it', () => 'deadbeef'],
    ['an empty ticket', () => ''],
  ])('refuses %s (401), and the real ticket still works afterwards', async (_name, forge) => {
    const ticket = await ticketFor(owner);
    await refusedTicket(forge(ticket));
    clientOf(await upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: ORIGIN })).ws.close(1000);
  });
});
