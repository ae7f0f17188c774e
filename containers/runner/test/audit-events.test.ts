/**
 * The runner's egressEvents end to end, up to the audit write: a real tool in a real sandbox
 * makes more connection attempts than the runner keeps (one of them to a 300-character host);
 * the runner's answer goes through the gateway's own parser (src/tools/runner-result.ts), and
 * what comes out is exactly the data of the one audit kind the gateway writes, `tool.egress`
 * (src/audit/events.ts; written by src/tools/run.ts, whose audit rows
 * test/workers/tools-egress-audit.test.ts checks inside workerd).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventMap } from '../../../src/audit/events.ts';
import { parseRunnerAnswer } from '../../../src/tools/runner-result.ts';
import { MAX_EGRESS_EVENTS, MAX_EVENT_HOST_CHARS } from '../src/egress-events.ts';
import { bwrapPrefix, makeScratch, startRunner, type TestRunner } from './helpers.ts';

/** Its own sandbox uid (RLIMIT_NPROC is per uid; see SANDBOX_UIDS in helpers.ts). */
const SANDBOX_UID = 61013;
const scratch = makeScratch();
const ATTEMPTS = MAX_EGRESS_EVENTS + 44;
let runner: TestRunner;

beforeAll(async () => {
  runner = await startRunner({ workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UID, resolve: async () => [] });
});

afterAll(async () => {
  await runner.close();
  scratch.cleanup();
});

/** Inside the sandbox: one CONNECT to a 300-character host, then ATTEMPTS - 1 more, each awaited. */
const FLOOD = `
const net = require('node:net');
const once = (host) => new Promise((resolve) => {
  const s = net.connect(3128, '127.0.0.1', () => s.write('CONNECT ' + host + ':443 HTTP/1.1\\r\\nHost: ' + host + ':443\\r\\n\\r\\n'));
  s.on('data', () => s.destroy());
  s.on('close', resolve);
  s.on('error', resolve);
});
(async () => {
  await once('a'.repeat(300) + '.test');
  for (let i = 1; i < ${ATTEMPTS}; i++) await once('h' + i + '.test');
  console.log('done');
})();
`;

// Type-level (npm run typecheck): a parsed event plus the call's ids is exactly tool.egress.
type Parsed = ReturnType<typeof parseRunnerAnswer>['egressEvents'][number];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _shapesMatch: Same<
  Parsed & { agentId: string; tool: string; invocationId: string | null; swapped: string[] },
  AuditEventMap['tool.egress']
> = true;

describe('egress events: clipped, capped, and parsed into tool.egress', { timeout: 120_000 }, () => {
  it(`a tool making ${ATTEMPTS} attempts (one to a 300-character host) gets a bounded answer the gateway parses whole`, async () => {
    const { status, json } = await runner.post({
      tool: 'flood',
      argv: ['node', '-e', FLOOD],
      env: {},
      timeoutMs: 100_000,
      outputLimitBytes: 65_536,
      sandbox: { bwrapArgv: bwrapPrefix({ workspace: join(scratch.workspaceRoot, 'agent-flood'), workspaceMode: 'rw' }) },
      egress: { allow: [{ host: 'api.example.com', port: 443 }] },
    });
    expect(status).toBe(200);
    expect(json.stdout).toBe('done\n');
    const events = (json.egressEvents ?? []) as unknown as Array<Record<string, unknown>>;
    expect(events).toHaveLength(MAX_EGRESS_EVENTS + 1);
    expect(events.at(-1)).toEqual({ type: 'egress.dropped', dropped: ATTEMPTS - MAX_EGRESS_EVENTS });
    expect(events[0]).toMatchObject({ type: 'egress.decision', allow: false, rule: 1, reason: 'malformed-host' });
    for (const event of events.slice(0, -1)) expect(String(event.host).length).toBeLessThanOrEqual(MAX_EVENT_HOST_CHARS);

    const parsed = parseRunnerAnswer(json);
    expect(parsed.stopReason).toBe('exit');
    expect(parsed.egressEvents).toHaveLength(MAX_EGRESS_EVENTS);
    expect(parsed.egressDropped).toBe(ATTEMPTS - MAX_EGRESS_EVENTS);
    expect(parsed.egressEvents[1]).toEqual({ host: 'h1.test', port: 443, allow: false, rule: 5, reason: 'no-addresses' });
    // Host, port and decision only: never a path, header or payload field.
    for (const event of parsed.egressEvents) expect(Object.keys(event).sort()).toEqual(['allow', 'host', 'port', 'reason', 'rule']);
  });
});
