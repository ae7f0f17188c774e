import { createRoute, z } from '@hono/zod-openapi';
import { principalOf, secured, signedIn } from '../auth';
import { createRouter, errorResponses, jsonContent, valueOf, clockOf } from '../http';
import { openEventStream } from './connect';
import { issueEventTicket } from './tickets';

const EventTicket = z
  .object({
    ticket: z.string().openapi({ description: 'Send as GET /api/v1/events?ticket=…; single use.' }),
    expiresAt: z.number().int().openapi({ description: 'Milliseconds since the epoch; 30 s after issue.' }),
  })
  .openapi('EventTicket');

const ticketRoute = secured(
  {
    method: 'post',
    path: '/api/v1/events/tickets',
    operationId: 'createEventTicket',
    summary: 'A short-lived, single-use ticket that opens one live events connection (any signed-in caller)',
    responses: {
      201: { description: 'Ticket (shown once, stored hashed)', ...jsonContent(EventTicket) },
      ...errorResponses(401, 403, 409),
    },
  },
  signedIn(),
);

/**
 * The upgrade authenticates by session cookie or by ticket (connect.ts), not through
 * secured(): a ticket is not a credential authenticate() knows, and it must be checked after
 * Origin, before anything else. Its security is declared here by hand, to the same effect:
 * every documented alternative is enforced, and an anonymous call answers 401.
 */
const streamRoute = createRoute({
  method: 'get',
  path: '/api/v1/events',
  operationId: 'openEventStream',
  summary: 'Live events of your workspace over a WebSocket (docs/events.md)',
  security: [{ session: [] }, { eventTicket: [] }],
  responses: {
    101: { description: 'Switching Protocols: the WebSocket is open' },
    ...errorResponses(400, 401, 403, 503),
  },
});

export function eventRoutes() {
  const router = createRouter();

  router.openapi(ticketRoute, async (c) => {
    const value = valueOf(await issueEventTicket(c.env, principalOf(c), clockOf(c)()));
    return c.json(value, 201);
  });

  router.openapi(streamRoute, (c) => openEventStream(c));

  router.openAPIRegistry.registerComponent('securitySchemes', 'eventTicket', {
    type: 'apiKey',
    in: 'query',
    name: 'ticket',
    description: 'Single-use ticket from POST /api/v1/events/tickets (30 s); only for GET /api/v1/events',
  });
  return router;
}
