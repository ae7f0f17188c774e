import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, ORIGIN, send } from './helpers';
import { asKey, createKey, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { clientOf, ticketFor, upgrade } from './events-support';

/**
 * Cross-site WebSocket hijacking: a page on another origin opens the socket and the browser
 * attaches the session cookie. DESIGN.md "HTTP contract": the gateway's own origin and
 * ALLOWED_ORIGINS (https://console.example.com in tests) pass; `null`, look-alikes and
 * anything else get 403 before any upgrade, before any credential is read or ticket spent.
 */
const REFUSED_ORIGINS = [
  'null',
  'http://localhost.evil.example',
  'https://gateway.example.evil',
  'https://gateway.example.com.evil.example',
  'https://evil.example/https://gateway.example.com',
  'http://gateway.example.com', // same host, other scheme
  'https://gateway.example.com:8443', // same host, other port
  'https://sub.gateway.example.com',
  'https://console.example.com.evil.example',
  'https://console.example.co',
  'HTTPS://GATEWAY.EXAMPLE.COM ', // not a serialised origin
  'https://gateway.example.com/', // a URL, not an origin
];
// An empty `Origin:` reaches the Worker as no header at all, so it is the missing-Origin case below.

let owner: Session;
beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
});

describe('GET /api/v1/events refuses foreign and null origins with 403, before any upgrade', () => {
  it.each(REFUSED_ORIGINS)('refuses Origin %j with a ticket, and the ticket stays unspent', async (origin) => {
    const ticket = await ticketFor(owner);
    const res = await upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: origin });
    expect(res.webSocket).toBeNull();
    await expectError(res, 403, 'FORBIDDEN');
    // Nothing happened: the same ticket still opens a connection from the gateway's own origin.
    const client = clientOf(await upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: ORIGIN }));
    client.ws.close(1000);
  });

  it.each(REFUSED_ORIGINS)('refuses Origin %j with the session cookie a browser would attach', async (origin) => {
    const res = await upgrade('/api/v1/events', { Origin: origin, Cookie: owner.cookie });
    expect(res.webSocket).toBeNull();
    await expectError(res, 403, 'FORBIDDEN');
  });

  it('accepts the gateway’s own origin and a configured one (ALLOWED_ORIGINS), by session and by ticket', async () => {
    for (const origin of [ORIGIN, 'https://console.example.com']) {
      clientOf(await upgrade('/api/v1/events', { Origin: origin, Cookie: owner.cookie })).ws.close(1000);
      clientOf(await upgrade(`/api/v1/events?ticket=${await ticketFor(owner)}`, { Origin: origin })).ws.close(1000);
    }
  });

  it('accepts a script with a ticket and no Origin, but not a cookie without one (a browser always sends Origin, RFC 6455 §4.1)', async () => {
    clientOf(await upgrade(`/api/v1/events?ticket=${await ticketFor(owner)}`)).ws.close(1000);
    const res = await upgrade('/api/v1/events', { Cookie: owner.cookie });
    expect(res.webSocket).toBeNull();
    await expectError(res, 403, 'FORBIDDEN');
  });
});

describe('GET /api/v1/events authenticates by session or ticket only', () => {
  it('answers 401 without a credential, and never upgrades', async () => {
    const res = await upgrade('/api/v1/events', { Origin: ORIGIN });
    expect(res.webSocket).toBeNull();
    await expectError(res, 401, 'UNAUTHENTICATED');
  });

  it('refuses an API key in the Authorization header (keys get a ticket instead), even beside a valid ticket', async () => {
    const { key } = await createKey(owner, ['audit:read']);
    const ticket = await ticketFor(owner);
    const res = await upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: ORIGIN, Authorization: `Bearer ${key}` });
    expect(res.webSocket).toBeNull();
    await expectError(res, 401, 'UNAUTHENTICATED');
    // The key itself is good: it can ask for a ticket.
    expect((await asKey(key, '/api/v1/events/tickets', { method: 'POST' })).status).toBe(201);
    clientOf(await upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: ORIGIN })).ws.close(1000);
  });

  it('answers a plain GET (no upgrade) with 400 and does not spend the ticket', async () => {
    const ticket = await ticketFor(owner);
    await expectError(await send(`/api/v1/events?ticket=${ticket}`, { headers: { Origin: ORIGIN } }), 400, 'VALIDATION_ERROR');
    clientOf(await upgrade(`/api/v1/events?ticket=${ticket}`, { Origin: ORIGIN })).ws.close(1000);
  });

  it('refuses an invalid session cookie with 401', async () => {
    const res = await upgrade('/api/v1/events', { Origin: ORIGIN, Cookie: '__Host-portcullis_session=not-a-session' });
    expect(res.webSocket).toBeNull();
    await expectError(res, 401, 'UNAUTHENTICATED');
  });
});
