/** Live events over HTTP (docs/events.md): the ticket route and the WebSocket upgrade. */
export { eventRoutes } from './routes';
export { issueEventTicket, spendEventTicket, type IssuedTicket, type TicketGrant } from './tickets';
