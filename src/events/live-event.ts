/**
 * What the live events WebSocket (GET /api/v1/events, docs/events.md) carries. Every event
 * belongs to one workspace and is delivered only to connections of that workspace, and only
 * to those whose credential holds a scope that may read it (EVENT_SCOPES). `data` holds ids,
 * names and statuses, never arguments, output, message text or any secret: a client fetches
 * details through the REST routes, which apply their own checks.
 */
export const LIVE_EVENT_TYPES = ['approval.pending', 'approval.decided', 'invocation.finished', 'turn.progress', 'audit'] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

export interface LiveEvent {
  type: LiveEventType;
  workspaceId: string;
  /** Milliseconds since the epoch: when the thing happened. */
  at: number;
  data: Record<string, unknown>;
}

/**
 * Who may receive each type: any one of these scopes is enough, the same as the REST route
 * that serves the same information (GET /api/v1/approvals, GET /api/v1/invocations/:id,
 * GET /api/v1/agents/:id/conversations, GET /api/v1/audit). Plain strings: src/events may
 * not import src/auth (auth records audit events, and audit publishes here).
 */
export const EVENT_SCOPES: Readonly<Record<LiveEventType, readonly string[]>> = {
  'approval.pending': ['tools:invoke', 'approvals:decide'],
  'approval.decided': ['tools:invoke', 'approvals:decide'],
  'invocation.finished': ['tools:invoke', 'agents:read'],
  'turn.progress': ['tools:invoke', 'agents:read'],
  audit: ['audit:read'],
};

/** The one frame shape a client receives: the event without its workspace (the connection already is one). */
export function eventFrame(event: LiveEvent): string {
  return JSON.stringify({ type: event.type, at: event.at, data: event.data });
}
