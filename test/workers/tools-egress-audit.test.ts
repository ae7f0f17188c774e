/**
 * A tool cannot erase its egress trail: whatever egress events the runner reports (one per
 * connection attempt the tool made), the call that ran is recorded as ran and the audit log
 * holds `tool.egress` events for what it did. The stand-in runner plays a runner whose tool made
 * oversized, excessive or malformed events; the gateway code after the executor boundary is real.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_AUDITED_EGRESS_EVENTS } from '../../src/tools/runner-result';
import { asSession, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { LOCAL_EXECUTOR, proxyDecision, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';

let owner: Session;
let agentId: string;

beforeAll(async () => {
  await setupInstance('Egress trail');
  owner = await login(OWNER.email, OWNER.password);
  agentId = (
    (await (await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'trail-bot', isolation: 'sandbox' } })).json()) as {
      id: string;
    }
  ).id;
  expect((await asSession(owner, `/api/v1/agents/${agentId}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST } })).status).toBe(
    201,
  );
});

async function call(reply: Parameters<typeof stubRunner>[0]) {
  const runner = stubRunner(reply);
  const res = await toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR })(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, {
    method: 'POST',
    body: { arguments: { path: '/workspace/a' } },
  });
  const body = (await res.json()) as { id?: string; status?: string };
  return { status: res.status, body, runs: runner.calls.length };
}

async function auditOf(invocationId: string) {
  const rows = await env.DB.prepare('SELECT kind, data FROM audit_events WHERE data LIKE ? ORDER BY seq')
    .bind(`%${invocationId}%`)
    .all<{ kind: string; data: string }>();
  return rows.results.map((row) => ({ kind: row.kind, data: JSON.parse(row.data) as Record<string, unknown> }));
}

async function refusalsOf(agent: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE kind = 'tool.invocation.refused' AND data LIKE ?")
    .bind(`%${agent}%`)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe('tool.egress: the audit log holds what the tool did', () => {
  it('writes each runner event as one tool.egress event with the call’s ids, host and port only', async () => {
    const { status, body } = await call(() => ({
      egressEvents: [
        proxyDecision('api.example.com'),
        { type: 'egress.placeholder_swapped', host: 'api.example.com', port: 443 },
        proxyDecision('exfil.example', 443, false),
        { type: 'egress.placeholder_refused', host: 'exfil.example', port: 443 },
        { type: 'egress.host_mismatch', host: 'api.example.com', port: 443 },
      ],
    }));
    expect(status).toBe(200);
    const audit = await auditOf(body.id!);
    expect(audit.map((e) => e.kind)).toEqual(['tool.egress', 'tool.egress', 'tool.egress', 'tool.egress', 'tool.egress', 'tool.invoked']);
    expect(audit.slice(0, 5).map((e) => e.data)).toEqual([
      {
        agentId,
        tool: 'cat',
        invocationId: body.id,
        host: 'api.example.com',
        port: 443,
        allow: true,
        rule: 6,
        reason: 'allowlisted',
        swapped: [],
      },
      {
        agentId,
        tool: 'cat',
        invocationId: body.id,
        host: 'api.example.com',
        port: 443,
        allow: true,
        rule: 0,
        reason: 'placeholder-swapped',
        swapped: [],
      },
      {
        agentId,
        tool: 'cat',
        invocationId: body.id,
        host: 'exfil.example',
        port: 443,
        allow: false,
        rule: 8,
        reason: 'not-allowlisted',
        swapped: [],
      },
      {
        agentId,
        tool: 'cat',
        invocationId: body.id,
        host: 'exfil.example',
        port: 443,
        allow: false,
        rule: 0,
        reason: 'placeholder-foreign-host',
        swapped: [],
      },
      {
        agentId,
        tool: 'cat',
        invocationId: body.id,
        host: 'api.example.com',
        port: 443,
        allow: false,
        rule: 0,
        reason: 'host-mismatch',
        swapped: [],
      },
    ]);
    expect(audit[5]?.data).toMatchObject({ status: 'completed', egressDropped: 0 });
  });

  it('a 300-character CONNECT host and over 1,024 attempts: the call is recorded as ran, events clipped and capped, the rest counted', async () => {
    const refusedBefore = await refusalsOf(agentId);
    const long = `${'a'.repeat(300)}.example`;
    const attempts = [
      { type: 'egress.decision', via: 'connect', host: long, port: 443, allow: false, rule: 1, reason: 'malformed-host' },
      ...Array.from({ length: 1100 }, (_, i) => proxyDecision(`h${i}.example`, 443, false)),
    ];
    const { status, body, runs } = await call(() => ({
      stdout: 'ran',
      egressEvents: [...attempts, { type: 'egress.dropped', dropped: 5000 }],
    }));
    expect(runs).toBe(1);
    expect(status).toBe(200);
    expect(body.status).toBe('completed');
    const audit = await auditOf(body.id!);
    const egress = audit.filter((e) => e.kind === 'tool.egress');
    expect(egress).toHaveLength(MAX_AUDITED_EGRESS_EVENTS);
    expect(String(egress[0]?.data.host).length).toBeLessThanOrEqual(253);
    expect(egress[0]?.data).toMatchObject({ allow: false, rule: 1, reason: 'malformed-host' });
    expect(egress.at(-1)?.data.host).toBe(`h${MAX_AUDITED_EGRESS_EVENTS - 2}.example`);
    expect(audit.find((e) => e.kind === 'tool.invoked')?.data).toMatchObject({
      status: 'completed',
      egressDropped: attempts.length - MAX_AUDITED_EGRESS_EVENTS + 5000,
    });
    expect(await refusalsOf(agentId)).toBe(refusedBefore);
  });

  it.each([
    [
      'malformed events among good ones',
      [proxyDecision('one.example'), { host: 42 }, 'junk', null, proxyDecision('two.example')],
      ['one.example', 'two.example'],
      3,
    ],
    ['an egressEvents that is not a list', 'not a list', [], 1],
  ])('%s: the good ones are audited, the rest counted, the call stays ran', async (_label, egressEvents, hosts, dropped) => {
    const refusedBefore = await refusalsOf(agentId);
    const { status, body } = await call(() => ({ egressEvents }));
    expect(status).toBe(200);
    expect(body.status).toBe('completed');
    const audit = await auditOf(body.id!);
    expect(audit.filter((e) => e.kind === 'tool.egress').map((e) => e.data.host)).toEqual(hosts);
    expect(audit.find((e) => e.kind === 'tool.invoked')?.data).toMatchObject({ egressDropped: dropped });
    expect(await refusalsOf(agentId)).toBe(refusedBefore);
  });

  it('an answer whose result fields do not parse is recorded as a call that ran and failed (stop reason unreadable), never as refused, its events kept', async () => {
    const refusedBefore = await refusalsOf(agentId);
    const { status, body } = await call(() => Response.json({ exitCode: 'zero', egressEvents: [proxyDecision('seen.example')] }));
    expect(status).toBe(200);
    expect(body.status).toBe('failed');
    const audit = await auditOf(body.id!);
    expect(audit.map((e) => [e.kind, e.data.host ?? e.data.stopReason])).toEqual([
      ['tool.egress', 'seen.example'],
      ['tool.invoked', 'unreadable'],
    ]);
    expect(await refusalsOf(agentId)).toBe(refusedBefore);
    const row = await env.DB.prepare('SELECT status, stop_reason FROM tool_invocations WHERE id = ?')
      .bind(body.id)
      .first<{ status: string; stop_reason: string }>();
    expect(row).toEqual({ status: 'failed', stop_reason: 'unreadable' });
  });
});
