/**
 * The runner's 200 answer (docs/sandbox.md "How a call runs"), parsed at the boundary: a
 * runner is not trusted to be well-formed, and the tool inside it chooses what its egress
 * events say (hosts it asked for, how often it asked). So the parts are parsed separately:
 * 1. the result fields (exit code, output, stop reason): unreadable → the call still ran (the
 *    runner answers 200 only after running it), recorded as failed with stop reason
 *    `unreadable`, never as refused;
 * 2. each egress event on its own: a host or reason too long is clipped, an event that does
 *    not parse is counted as dropped, and at most MAX_AUDITED_EGRESS_EVENTS are kept (the rest
 *    counted), plus the runner's own `egress.dropped` summary;
 * so one hostile event can neither hide the others nor turn a call that ran into a refusal.
 */
import { z } from 'zod';

/* The result types live here, not in executor.ts, so the runner's Node tests can import this parser alone. */
export interface EgressEvent {
  host: string;
  port: number;
  allow: boolean;
  rule: number;
  reason: string;
}

export interface ToolRunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
  /**
   * `unreadable`: the runner answered (so the call ran) but its result did not parse.
   * `executor-lost`: the runner went away after the call was sent (crashed, out of memory,
   * killed, its container gone, or no answer within the call's timeout plus grace): the call
   * may have run, so it is a failed call, never a refusal.
   */
  stopReason: 'exit' | 'timeout' | 'output-limit' | 'killed' | 'unreadable' | 'executor-lost';
  egressEvents: EgressEvent[];
  /** Events the runner or the gateway dropped (over the cap, or malformed): counted, not lost silently. */
  egressDropped: number;
}

/** The runner keeps 256 (containers/runner/src/egress-events.ts); a runner sending more is cut here. */
export const MAX_AUDITED_EGRESS_EVENTS = 256;
const MAX_HOST_CHARS = 253;
const MAX_REASON_CHARS = 64;

const RunnerResultFields = z.object({
  exitCode: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  durationMs: z.number().nonnegative(),
  stopReason: z.enum(['exit', 'timeout', 'output-limit', 'killed']),
});

const WireEvent = z.object({
  type: z.string().optional(),
  host: z.string(),
  port: z.number().int(),
  allow: z.boolean().optional(),
  rule: z.number().int().optional(),
  reason: z.string().optional(),
});
const WireDropped = z.object({ type: z.literal('egress.dropped'), dropped: z.number().int().nonnegative() });

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Reasons of the proxy's non-decision events (their refusal is a deny, a swap rides on an allow). */
const EVENT_REASONS: Record<string, { allow: boolean; reason: string }> = {
  'egress.placeholder_refused': { allow: false, reason: 'placeholder-foreign-host' },
  'egress.placeholder_swapped': { allow: true, reason: 'placeholder-swapped' },
  'egress.host_mismatch': { allow: false, reason: 'host-mismatch' },
  'egress.response_refused': { allow: false, reason: 'response-unscrubbable' },
};

export function parseEgressEvents(raw: unknown): { events: EgressEvent[]; dropped: number } {
  if (raw === undefined) return { events: [], dropped: 0 };
  if (!Array.isArray(raw)) return { events: [], dropped: 1 };
  const events: EgressEvent[] = [];
  let dropped = 0;
  for (const item of raw as unknown[]) {
    const summary = WireDropped.safeParse(item);
    if (summary.success) {
      dropped += summary.data.dropped;
      continue;
    }
    const event = WireEvent.safeParse(item);
    if (!event.success || events.length >= MAX_AUDITED_EGRESS_EVENTS) {
      dropped++;
      continue;
    }
    const e = event.data;
    const known = e.type === undefined ? undefined : EVENT_REASONS[e.type];
    events.push({
      host: clip(e.host, MAX_HOST_CHARS),
      port: e.port,
      allow: known ? known.allow : (e.allow ?? false),
      rule: e.rule ?? 0,
      reason: clip(known ? known.reason : (e.reason ?? 'unknown'), MAX_REASON_CHARS),
    });
  }
  return { events, dropped };
}

/** The result of a call whose runner went away mid-call (see `executor-lost` above). */
export function lostRunResult(durationMs: number): ToolRunResult {
  return {
    exitCode: null,
    stdout: '',
    stderr: '',
    truncated: false,
    durationMs: Math.max(0, Math.round(durationMs)),
    stopReason: 'executor-lost',
    egressEvents: [],
    egressDropped: 0,
  };
}

export function parseRunnerAnswer(json: unknown): ToolRunResult {
  const egress = parseEgressEvents(
    typeof json === 'object' && json !== null ? (json as { egressEvents?: unknown }).egressEvents : undefined,
  );
  const fields = RunnerResultFields.safeParse(json);
  if (!fields.success) {
    return {
      exitCode: null,
      stdout: '',
      stderr: '',
      truncated: false,
      durationMs: 0,
      stopReason: 'unreadable',
      egressEvents: egress.events,
      egressDropped: egress.dropped,
    };
  }
  const answer = fields.data;
  return {
    exitCode: answer.exitCode,
    stdout: answer.stdout,
    stderr: answer.stderr,
    truncated: answer.truncated,
    durationMs: Math.round(answer.durationMs),
    stopReason: answer.stopReason,
    egressEvents: egress.events,
    egressDropped: egress.dropped,
  };
}
