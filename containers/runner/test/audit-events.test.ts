/**
 * The runner's egressEvents are written to the gateway's audit log as the `egress.*` kinds of
 * src/audit/events.ts: the gateway adds the call's ids and nothing else. This pins the two
 * shapes together (type-level) and checks that a real proxy event carries no other field.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEventMap, EgressAuditContext } from '../../../src/audit/events.ts';
import type { EgressAuditEvent } from '../src/proxy.ts';

/** What the gateway does with each event: its own ids plus the event's fields, minus `type`. */
function toAuditData(event: EgressAuditEvent, context: EgressAuditContext): Record<string, unknown> {
  const { type: _type, ...fields } = event;
  return { ...context, ...fields };
}

// Type-level (checked by `npm run typecheck`, not at run time): every field the runner reports
// is declared by the audit kind with the same type, and the kind declares nothing more.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type AsAudit<T extends EgressAuditEvent['type']> = Omit<Extract<EgressAuditEvent, { type: T }>, 'type'> & EgressAuditContext;
const _shapesMatch: [Same<AsAudit<'egress.decision'>, AuditEventMap['egress.decision']>, Same<AsAudit<'egress.placeholder_refused'>, AuditEventMap['egress.placeholder_refused']>, Same<AsAudit<'egress.placeholder_swapped'>, AuditEventMap['egress.placeholder_swapped']>] = [true, true, true];

describe('egress audit kinds', () => {
  const context = { agentId: 'agt_1', tool: 'fetch', invocationId: 'inv_1' };

  it('a decision carries ids, host, port, allow, rule and reason only', () => {
    const data = toAuditData({ type: 'egress.decision', via: 'connect', host: 'api.example.com', port: 443, allow: false, rule: 8, reason: 'not-allowlisted' }, context);
    expect(Object.keys(data).sort()).toEqual(['agentId', 'allow', 'host', 'invocationId', 'port', 'reason', 'rule', 'tool', 'via']);
  });

  it('placeholder events carry ids, host and port only (never the placeholder or the value)', () => {
    for (const type of ['egress.placeholder_refused', 'egress.placeholder_swapped'] as const) {
      const data = toAuditData({ type, host: 'evil.example', port: 443 }, context);
      expect(Object.keys(data).sort()).toEqual(['agentId', 'host', 'invocationId', 'port', 'tool']);
    }
  });
});
