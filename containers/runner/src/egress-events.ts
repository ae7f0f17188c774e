/**
 * The proxy's egress events as the runner reports them (`egressEvents` of the answer). The
 * gateway writes each as one `tool.egress` audit event (src/audit/events.ts). A tool picks
 * the hosts it asks for and how often it asks, so the list is bounded here: every event is
 * clipped to what the gateway accepts, and past MAX_EGRESS_EVENTS the rest are counted in one
 * closing `egress.dropped` summary instead of growing the answer until it cannot be parsed.
 */

export type EgressAuditEvent =
  | { type: 'egress.decision'; via: 'connect' | 'http'; host: string; port: number; allow: boolean; rule: number; reason: string }
  | { type: 'egress.placeholder_refused'; host: string; port: number }
  | { type: 'egress.placeholder_swapped'; host: string; port: number }
  /** Inside an intercepted tunnel, a request whose Host or SNI is not the CONNECT target. */
  | { type: 'egress.host_mismatch'; host: string; port: number }
  /** Upstream answered in a content coding the proxy cannot scrub: not passed back. */
  | { type: 'egress.response_refused'; host: string; port: number };

export type EgressDroppedEvent = { type: 'egress.dropped'; dropped: number };

/** Events kept per call; the gateway accepts at most this many plus the summary. */
export const MAX_EGRESS_EVENTS = 256;
/** RFC 1035 §2.3.4: no real host is longer; a longer one is clipped (and was refused anyway). */
export const MAX_EVENT_HOST_CHARS = 253;
const CLIP_MARK = '…';

export function clipHost(host: string): string {
  return host.length <= MAX_EVENT_HOST_CHARS ? host : `${host.slice(0, MAX_EVENT_HOST_CHARS - CLIP_MARK.length)}${CLIP_MARK}`;
}

export interface EgressEventLog {
  record(event: EgressAuditEvent): EgressAuditEvent;
  /** The kept events, then `{type: 'egress.dropped', dropped}` when any were dropped. */
  events(): Array<EgressAuditEvent | EgressDroppedEvent>;
}

export function egressEventLog(max = MAX_EGRESS_EVENTS): EgressEventLog {
  const kept: EgressAuditEvent[] = [];
  let dropped = 0;
  return {
    record(event) {
      const clipped = { ...event, host: clipHost(event.host) };
      if (kept.length < max) kept.push(clipped);
      else dropped++;
      return clipped;
    },
    events: () => (dropped > 0 ? [...kept, { type: 'egress.dropped', dropped }] : [...kept]),
  };
}
