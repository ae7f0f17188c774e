/**
 * Live events (docs/events.md): the per-workspace EventHub Durable Object and publishEvent.
 * Imports only src/lib and types, so src/audit, src/tools and the runtime can publish here
 * without a cycle; the routes that authenticate a connection live in src/events-api.
 */
export {
  CLIENT_MESSAGE_MAX_BYTES,
  CLOSE,
  CONNECTION_MAX_AGE_MS,
  ConnectionGrant,
  EventHub,
  GRANT_HEADER,
  MAX_CONNECTIONS,
  MAX_LIVE_TICKETS,
  TICKET_TTL_MS,
  type TicketIssuer,
} from './event-hub';
export { EVENT_SCOPES, eventFrame, LIVE_EVENT_TYPES, type LiveEvent, type LiveEventType } from './live-event';
export { publishEvent, publishEvents, type EventBindings } from './publish';
