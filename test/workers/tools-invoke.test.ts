import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { argumentsHash } from '../../src/tools';
import { expectError, ORIGIN, postJson } from './helpers';
import {
  asKey,
  asSession,
  countRows,
  createKey,
  dumpDatabase,
  inviteUser,
  login,
  OWNER,
  setupInstance,
  testThrottle,
  type Session,
} from './identity-helpers';
import catBwrapArgv from '../fixtures/tools/cat-bwrap-argv.json';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';

let owner: Session;
let ownerB: Session;
let agentId: string;
let workspaceId: string;

const GITHUB_TOKEN = 'ghp_realSecretValue0123456789abcdefABCDEF';

async function newAgent(name: string, tools: Record<string, unknown> = {}, settings: Record<string, unknown> = {}): Promise<string> {
  const id = (
    (await (await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name, settings, isolation: 'sandbox' } })).json()) as {
      id: string;
    }
  ).id;
  expect((await asSession(owner, `/api/v1/agents/${id}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST, tools } })).status).toBe(
    201,
  );
  return id;
}

/** Like toolApp, but the caller is an API key (an agent's key, or a decision key). */
function keyApp(options: { now?: () => number; fetch?: typeof fetch; bindings?: Record<string, unknown> }) {
  const app = createApp({
    loginThrottle: testThrottle,
    ...(options.now ? { now: options.now } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const bindings = { ...env, ...options.bindings };
  return (key: string, path: string, init: { method?: string; body?: unknown } = {}) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    return app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
      bindings,
    );
  };
}

/** The one call of agent `agentId` ended `failed` with the refusal reason, audited with that reason and never as run. */
async function expectRefusalStored(agentId: string, reason: string) {
  const rows = (
    await env.DB.prepare('SELECT status, stop_reason, stdout, exit_code FROM tool_invocations WHERE agent_id = ?').bind(agentId).all()
  ).results;
  expect(rows).toEqual([{ status: 'failed', stop_reason: reason, stdout: null, exit_code: null }]);
  const refused = (
    await env.DB.prepare(
      "SELECT actor, data FROM audit_events WHERE kind = 'tool.invocation.refused' AND json_extract(data, '$.agentId') = ?",
    )
      .bind(agentId)
      .all<{ actor: string; data: string }>()
  ).results;
  expect(refused.map((row) => ({ actor: row.actor, data: JSON.parse(row.data) as unknown }))).toEqual([
    { actor: 'system', data: { agentId, tool: 'cat', reason } },
  ]);
  const invoked = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'tool.invoked' AND json_extract(data, '$.agentId') = ?",
  )
    .bind(agentId)
    .first<{ n: number }>();
  expect(invoked?.n).toBe(0);
}

async function invocationRow(id: string) {
  return env.DB.prepare('SELECT status, stdout, stderr FROM tool_invocations WHERE id = ?')
    .bind(id)
    .first<{ status: string; stdout: string | null; stderr: string | null }>();
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Tools A'));
  owner = await login(OWNER.email, OWNER.password);
  const res = await asSession(owner, '/api/v1/workspaces', { method: 'POST', body: { name: 'Tools B', ownerEmail: 'b@example.com' } });
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'owner b passphrase long' })).status).toBe(204);
  ownerB = await login('b@example.com', 'owner b passphrase long');
  agentId = await newAgent('runner-bot');
  expect(
    (
      await asSession(owner, '/api/v1/credentials/GITHUB_TOKEN', {
        method: 'PUT',
        body: { value: GITHUB_TOKEN, allowedHosts: ['api.github.com'] },
      })
    ).status,
  ).toBeLessThan(300);
});

describe('invocations', () => {
  it.each([
    ['a missing required argument', {}],
    ['an undeclared argument', { path: '/workspace/a', extra: 'x' }],
    ['a wrong type', { path: 42 }],
    ['a string over maxLength', { path: 'a'.repeat(201) }],
  ])('refuses %s with 400 naming the path; nothing stored, nothing run', async (_label, args) => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const before = await countRows('tool_invocations');
    const error = await expectError(
      await call(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, { method: 'POST', body: { arguments: args } }),
      400,
      'VALIDATION_ERROR',
    );
    expect(error.fields?.every((field) => field.startsWith('arguments'))).toBe(true);
    expect(await countRows('tool_invocations')).toBe(before);
    expect(runner.calls).toEqual([]);
  });

  it('without executor configuration the call is refused with 503 and nothing runs (fail closed)', async () => {
    const runner = stubRunner(() => ({}));
    for (const bindings of [
      {},
      { TOOL_EXECUTOR: 'shell' },
      { ...LOCAL_EXECUTOR, RUNNER_SECRET: 'short' },
      { ...LOCAL_EXECUTOR, RUNNER_URL: 'not a url' },
      { ...LOCAL_EXECUTOR, RUNNER_WORKSPACE_ROOT: 'relative/dir' },
      { TOOL_EXECUTOR: 'container', RUNNER_SECRET: LOCAL_EXECUTOR.RUNNER_SECRET, TOOL_SANDBOX: undefined },
      { ...LOCAL_EXECUTOR, TOOL_SANDBOX_SLEEP_AFTER: '300' },
      { ...LOCAL_EXECUTOR, TOOL_SANDBOX_SLEEP_AFTER: '5 m' },
      { ...LOCAL_EXECUTOR, TOOL_SANDBOX_SLEEP_AFTER: '2s' },
      { ...LOCAL_EXECUTOR, TOOL_SANDBOX_SLEEP_AFTER: '25h' },
    ]) {
      const call = toolApp({ fetch: runner.fetch, bindings });
      await expectError(
        await call(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, {
          method: 'POST',
          body: { arguments: { path: '/workspace/a' } },
        }),
        503,
        'SERVICE_UNAVAILABLE',
      );
    }
    expect(runner.calls).toEqual([]);
  });

  it('runs through the local executor: signed, sandboxed by the tool’s bwrap prefix, each argument one argv element', async () => {
    const runner = stubRunner(() => ({ stdout: 'hello\n' }));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const hostile = '/workspace/a b; rm -rf / $(id)';
    const res = await call(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, {
      method: 'POST',
      body: { arguments: { path: hostile } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      id: string;
      status: string;
      exitCode: number;
      stdout: string;
      truncated: boolean;
      durationMs: number;
    };
    expect(body).toMatchObject({ status: 'completed', exitCode: 0, stdout: 'hello\n', truncated: false, durationMs: 12 });
    expect(runner.calls).toHaveLength(1);
    const sent = runner.calls[0]!.body;
    expect(sent.argv).toEqual(['cat', hostile]);
    expect(sent.sandbox?.bwrapArgv[0]).toBe('bwrap');
    expect(sent.sandbox?.bwrapArgv).toEqual(expect.arrayContaining(['--unshare-net', '--die-with-parent', '--clearenv']));
    // /workspace in the sandbox is this agent's own directory on the runner host, never the host's /workspace.
    const argv = sent.sandbox?.bwrapArgv ?? [];
    const workspaceBind = argv.findIndex((arg, i) => (arg === '--bind' || arg === '--ro-bind') && argv[i + 2] === '/workspace');
    expect(workspaceBind).toBeGreaterThan(0);
    expect(argv[workspaceBind + 1]).toBe(`/var/lib/portcullis-runner/workspaces/${agentId}/workspace`);
    expect(sent.timeoutMs).toBe(30_000);
    expect(sent.outputLimitBytes).toBe(64 * 1024);
    expect(sent.egress).toBeUndefined();
    const stored = (await (await asSession(owner, `/api/v1/invocations/${body.id}`)).json()) as { status: string; stdout: string };
    expect(stored).toMatchObject({ status: 'completed', stdout: 'hello\n' });
  });

  it('a runner that dies mid-call (crash, OOM, killed): the call is recorded failed (executor-lost) with its id in the answer, never as refused', async () => {
    const lostAgent = await newAgent('lost-runner-bot');
    // The runner received the signed call, then its connection dropped (what fetch sees when it dies).
    const runner = stubRunner(() => {
      throw new TypeError('Network connection lost.');
    });
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const res = await call(owner, `/api/v1/agents/${lostAgent}/tools/cat/invocations`, {
      method: 'POST',
      body: { arguments: { path: '/workspace/a' } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; status: string; exitCode: number | null; stdout: string };
    expect(body).toMatchObject({ status: 'failed', exitCode: null, stdout: '' });
    expect(body.id).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    expect(runner.calls).toHaveLength(1);
    const rows = (await env.DB.prepare('SELECT id, status, stop_reason FROM tool_invocations WHERE agent_id = ?').bind(lostAgent).all())
      .results;
    expect(rows).toEqual([{ id: body.id, status: 'failed', stop_reason: 'executor-lost' }]);
    const kinds = (
      await env.DB.prepare(
        "SELECT kind, data FROM audit_events WHERE kind LIKE 'tool.invo%' AND json_extract(data, '$.agentId') = ? ORDER BY seq",
      )
        .bind(lostAgent)
        .all<{ kind: string; data: string }>()
    ).results;
    expect(kinds.map((row) => row.kind)).toEqual(['tool.invoked']);
    expect(JSON.parse(kinds[0]!.data)).toMatchObject({
      invocationId: body.id,
      status: 'failed',
      stopReason: 'executor-lost',
      executor: 'local',
    });
  });

  it('maps a runner timeout to timed_out and a non-zero exit to failed', async () => {
    const timedOut = stubRunner(() => ({ exitCode: null, stopReason: 'timeout', durationMs: 30_000 }));
    const r1 = await toolApp({ fetch: timedOut.fetch, bindings: LOCAL_EXECUTOR })(
      owner,
      `/api/v1/agents/${agentId}/tools/cat/invocations`,
      { method: 'POST', body: { arguments: { path: '/x' } } },
    );
    expect(((await r1.json()) as { status: string }).status).toBe('timed_out');
    const failed = stubRunner(() => ({ exitCode: 1, stderr: 'no such file' }));
    const r2 = await toolApp({ fetch: failed.fetch, bindings: LOCAL_EXECUTOR })(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, {
      method: 'POST',
      body: { arguments: { path: '/x' } },
    });
    expect(await r2.json()).toMatchObject({ status: 'failed', exitCode: 1, stderr: 'no such file' });
  });

  it('a host-bound credential reaches the tool as a placeholder; neither it nor the value is ever stored or returned', async () => {
    // The stand-in plays a tool that prints its environment and the value the proxy would inject.
    const runner = stubRunner((c) => ({
      stdout: `env=${c.body.env.GITHUB_TOKEN} value=${c.body.placeholders?.[0]?.value}`,
      stderr: `${c.body.env.GITHUB_TOKEN}`,
    }));
    const res = await toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR })(owner, `/api/v1/agents/${agentId}/tools/gh/invocations`, {
      method: 'POST',
      body: { arguments: { repo: 'octo/cat' } },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const sent = runner.calls[0]!.body;
    const placeholder = sent.env.GITHUB_TOKEN!;
    expect(placeholder).toMatch(/^PORTCULLIS_PLACEHOLDER_[0-9a-f]{32}$/);
    expect(sent.placeholders).toEqual([{ placeholder, value: GITHUB_TOKEN, hosts: ['api.github.com'] }]);
    expect(sent.egress).toEqual({ allow: [{ host: 'api.github.com', port: 443 }] });
    expect(text).not.toContain(placeholder);
    expect(text).not.toContain(GITHUB_TOKEN);
    const db = await dumpDatabase();
    expect(db).not.toContain(placeholder);
    expect(db).not.toContain(GITHUB_TOKEN);
  });

  it('refuses an agent with isolation unrestricted unless the dangerous flag is set (403, nothing run)', async () => {
    const id = await newAgent('loose-bot');
    await env.DB.prepare("UPDATE agents SET isolation = 'unrestricted' WHERE id = ?").bind(id).run();
    const runner = stubRunner(() => ({}));
    await expectError(
      await toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR })(owner, `/api/v1/agents/${id}/tools/cat/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/x' } },
      }),
      403,
      'POLICY_DENIED',
    );
    expect(runner.calls).toEqual([]);
    await expectRefusalStored(id, 'isolation-not-allowed');
  });

  it('with DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS an unrestricted agent still runs in bwrap under its compiled policy, argv for argv like a sandbox agent', async () => {
    const twin = await newAgent('sandboxed-twin');
    const loose = await newAgent('unrestricted-bot');
    await env.DB.prepare("UPDATE agents SET isolation = 'unrestricted' WHERE id = ?").bind(loose).run();
    const runner = stubRunner(() => ({ stdout: 'ran' }));
    const call = toolApp({ fetch: runner.fetch, bindings: { ...LOCAL_EXECUTOR, DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS: 'true' } });
    for (const id of [twin, loose]) {
      const res = await call(owner, `/api/v1/agents/${id}/tools/cat/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/workspace/a' } },
      });
      expect(await res.json()).toMatchObject({ status: 'completed', stdout: 'ran' });
    }
    expect(runner.calls).toHaveLength(2);
    const [sandboxed, unrestricted] = runner.calls.map((c) => c.body);
    const argv = unrestricted?.sandbox?.bwrapArgv ?? [];
    // Identical to the sandbox agent's call except for the agent's own directory.
    expect(argv).toEqual((sandboxed?.sandbox?.bwrapArgv ?? []).map((arg) => arg.split(twin).join(loose)));
    expect(argv.join(' ')).not.toContain(twin);
    // And exactly the policy compiled for `cat` (exec:spawn:cat, fs:read:/workspace/**): no
    // network, no host environment, system directories and the agent's workspace read-only.
    // test/node/unrestricted-sandbox.test.ts runs this same argv through the real runner.
    const workspace = `/var/lib/portcullis-runner/workspaces/${loose}/workspace`;
    expect(argv).toEqual(catBwrapArgv.argv.map((arg) => (arg === '{agentWorkspace}' ? workspace : arg)));
    expect(unrestricted?.argv).toEqual(['cat', '/workspace/a']);
    expect(unrestricted?.env).toEqual(sandboxed?.env);
    expect(unrestricted?.egress).toBeUndefined();
  });

  it('refuses an agent that requires container isolation on a deployment that runs tools locally (403, nothing run)', async () => {
    const id = await newAgent('strict-bot');
    await env.DB.prepare("UPDATE agents SET isolation = 'container' WHERE id = ?").bind(id).run();
    const runner = stubRunner(() => ({}));
    const err = await expectError(
      await toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR })(owner, `/api/v1/agents/${id}/tools/cat/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/x' } },
      }),
      403,
      'POLICY_DENIED',
    );
    expect(err.message).toMatch(/container isolation/);
    expect(runner.calls).toEqual([]);
    await expectRefusalStored(id, 'isolation-not-allowed');
  });

  it('enforces maxConcurrentTools exactly: with no queue a held slot refuses the next call with 429, audited, nothing run', async () => {
    const id = await newAgent('busy-bot', {}, { maxConcurrentTools: 1 });
    const slots = env.TOOL_CONCURRENCY.get(env.TOOL_CONCURRENCY.idFromName(`${workspaceId}:${id}`));
    expect(await slots.acquire('held-elsewhere', 1, Date.now(), 60_000)).toBe('granted');
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: { ...LOCAL_EXECUTOR, TOOL_QUEUE_WAIT_MS: '0' } });
    const refused = await call(owner, `/api/v1/agents/${id}/tools/cat/invocations`, {
      method: 'POST',
      body: { arguments: { path: '/x' } },
    });
    await expectError(refused, 429, 'RATE_LIMITED');
    expect(runner.calls).toEqual([]);
    const audit = await env.DB.prepare(
      "SELECT data FROM audit_events WHERE kind = 'tool.invocation.refused' AND data LIKE '%concurrency-limit%' AND data LIKE ?",
    )
      .bind(`%${id}%`)
      .all();
    expect(audit.results).toHaveLength(1);
    expect(await slots.waiting()).toBe(0);
    await slots.release('held-elsewhere');
    expect(
      (await call(owner, `/api/v1/agents/${id}/tools/cat/invocations`, { method: 'POST', body: { arguments: { path: '/x' } } })).status,
    ).toBe(200);
    expect(await slots.held(Date.now())).toBe(0);
  });

  it('queues a call behind a held slot and runs it once the slot is released (per-agent FIFO queue)', async () => {
    const id = await newAgent('queue-bot', {}, { maxConcurrentTools: 1 });
    const slots = env.TOOL_CONCURRENCY.get(env.TOOL_CONCURRENCY.idFromName(`${workspaceId}:${id}`));
    expect(await slots.acquire('held-elsewhere', 1, Date.now(), 60_000)).toBe('granted');
    const runner = stubRunner(() => ({ stdout: 'ran' }));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const pendingCall = call(owner, `/api/v1/agents/${id}/tools/cat/invocations`, { method: 'POST', body: { arguments: { path: '/x' } } });
    while ((await slots.waiting()) === 0) await scheduler.wait(20);
    // A newcomer cannot jump the queue even when it polls first after the release.
    expect(runner.calls).toEqual([]);
    await slots.release('held-elsewhere');
    expect(await slots.acquire('newcomer', 1, Date.now(), 60_000)).toBe('refused');
    const res = await pendingCall;
    expect(await res.json()).toMatchObject({ status: 'completed', stdout: 'ran' });
    expect(runner.calls).toHaveLength(1);
    expect(await slots.waiting()).toBe(0);
  });

  it('another workspace cannot invoke A’s tools or read A’s invocations (404, nothing run)', async () => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    await expectError(
      await call(ownerB, `/api/v1/agents/${agentId}/tools/cat/invocations`, { method: 'POST', body: { arguments: { path: '/x' } } }),
      404,
      'NOT_FOUND',
    );
    const mine = (await (
      await call(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, { method: 'POST', body: { arguments: { path: '/x' } } })
    ).json()) as { id: string };
    expect(runner.calls).toHaveLength(1);
    await expectError(await asSession(ownerB, `/api/v1/invocations/${mine.id}`), 404, 'NOT_FOUND');
  });
});

describe('approvals', () => {
  let strictAgent: string;
  /** The agent's own key: it calls tools, so it is the requester of every pending call here. */
  let agentKey: { id: string; key: string };
  /** A second person, operator: the one who decides. */
  let approver: Session;
  let viewer: Session;
  beforeAll(async () => {
    strictAgent = await newAgent('careful-bot', {
      cat: { approval: 'always' },
      gh: { approval: 'on-miss', approvalAllowlist: [{ repo: 'octo/*' }] },
    });
    agentKey = await createKey(owner, ['tools:invoke']);
    await inviteUser(owner, 'approver@example.com', 'operator', 'approver passphrase long');
    approver = await login('approver@example.com', 'approver passphrase long');
    await inviteUser(owner, 'watcher@example.com', 'viewer', 'watcher passphrase long');
    viewer = await login('watcher@example.com', 'watcher passphrase long');
  });

  /** Requests `args` with the agent's key and finds the approval as the approver sees it. */
  async function pending(
    call: ReturnType<typeof toolApp>,
    args: Record<string, unknown>,
    tool = 'cat',
    keyCall = keyApp({ bindings: LOCAL_EXECUTOR }),
  ) {
    const res = await keyCall(agentKey.key, `/api/v1/agents/${strictAgent}/tools/${tool}/invocations`, {
      method: 'POST',
      body: { arguments: args },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; status: string };
    expect(body.status).toBe('pending_approval');
    const list = (await (await call(approver, '/api/v1/approvals')).json()) as {
      approvals: Array<{ id: string; invocationId: string; arguments: unknown; argumentsHash: string }>;
    };
    const approval = list.approvals.find((a) => a.invocationId === body.id)!;
    expect(approval.arguments).toEqual(args);
    return { invocationId: body.id, approvalId: approval.id, hash: approval.argumentsHash };
  }

  async function approvalRow(id: string) {
    return env.DB.prepare(
      'SELECT status, decided_by, decided_at, requested_by_user_id, requested_by_credential_id FROM approvals WHERE id = ?',
    )
      .bind(id)
      .first<Record<string, unknown>>();
  }

  async function auditOf(kind: string, needle: string) {
    const rows = await env.DB.prepare('SELECT actor, data FROM audit_events WHERE kind = ? AND data LIKE ? ORDER BY seq')
      .bind(kind, `%${needle}%`)
      .all<{ actor: string; data: string }>();
    return rows.results.map((row) => ({ actor: row.actor, data: JSON.parse(row.data) as Record<string, unknown> }));
  }

  it('pending → approve by another person runs exactly the shown arguments once; a second approval is refused; both sides audited', async () => {
    const runner = stubRunner(() => ({ stdout: 'ok' }));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const p = await pending(call, { path: '/workspace/report.txt' });
    expect(p.hash).toBe(await argumentsHash({ path: '/workspace/report.txt' }));
    expect(runner.calls).toEqual([]);
    expect((await invocationRow(p.invocationId))?.status).toBe('pending_approval');
    expect(await approvalRow(p.approvalId)).toMatchObject({
      status: 'pending',
      requested_by_user_id: owner.userId,
      requested_by_credential_id: agentKey.id,
    });
    const approved = await call(approver, `/api/v1/approvals/${p.approvalId}`, {
      method: 'POST',
      body: { decision: 'approve', argumentsHash: p.hash },
    });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ id: p.invocationId, status: 'completed', stdout: 'ok' });
    expect(runner.calls.map((c) => c.body.argv)).toEqual([['cat', '/workspace/report.txt']]);
    await expectError(
      await call(approver, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } }),
      409,
      'CONFLICT',
    );
    expect(runner.calls).toHaveLength(1);
    expect(await approvalRow(p.approvalId)).toMatchObject({ status: 'approved', decided_by: `user:${approver.userId}` });

    expect(await auditOf('tool.approval.requested', p.approvalId)).toEqual([
      {
        actor: `api_key:${agentKey.id}`,
        data: { agentId: strictAgent, tool: 'cat', invocationId: p.invocationId, approvalId: p.approvalId, expiresAt: expect.any(Number) },
      },
    ]);
    expect(await auditOf('tool.approval.decided', p.approvalId)).toEqual([
      {
        actor: `user:${approver.userId}`,
        data: { agentId: strictAgent, tool: 'cat', invocationId: p.invocationId, approvalId: p.approvalId, decision: 'approved' },
      },
    ]);
    const invoked = await auditOf('tool.invoked', p.invocationId);
    expect(invoked).toEqual([
      {
        actor: 'system',
        data: {
          agentId: strictAgent,
          tool: 'cat',
          invocationId: p.invocationId,
          status: 'completed',
          exitCode: 0,
          durationMs: 12,
          stopReason: 'exit',
          executor: 'local',
          egressDropped: 0,
        },
      },
    ]);
    // The audit names the call, never its arguments, output or the key.
    const auditText = JSON.stringify(await env.DB.prepare('SELECT actor, data FROM audit_events').all());
    expect(auditText).not.toContain('report.txt');
    expect(auditText).not.toContain(agentKey.key);
  });

  describe('nobody approves their own call (attack: the agent’s key grants itself an approval)', () => {
    const attempts: Array<[string, () => Promise<(path: string, body: unknown) => Response | Promise<Response>>]> = [
      [
        'the requesting key itself (tools:invoke)',
        async () => (path, body) =>
          keyApp({ fetch: stubRunner(() => ({})).fetch, bindings: LOCAL_EXECUTOR })(agentKey.key, path, { method: 'POST', body }),
      ],
      ['a viewer', async () => (path, body) => toolApp({ bindings: LOCAL_EXECUTOR })(viewer, path, { method: 'POST', body })],
      [
        'an operator’s key without approvals:decide',
        async () => {
          const narrow = await createKey(approver, ['agents:read']);
          return (path, body) => keyApp({ bindings: LOCAL_EXECUTOR })(narrow.key, path, { method: 'POST', body });
        },
      ],
      [
        'a key forced to hold both tools:invoke and approvals:decide (checked at use)',
        async () => {
          const both = await createKey(approver, ['approvals:decide']);
          await env.DB.prepare('UPDATE api_keys SET scopes = ? WHERE id = ?')
            .bind(JSON.stringify(['tools:invoke', 'approvals:decide']), both.id)
            .run();
          return (path, body) => keyApp({ bindings: LOCAL_EXECUTOR })(both.key, path, { method: 'POST', body });
        },
      ],
    ];

    it.each(attempts)('refuses %s with 403: still pending, nothing run, refusal audited', async (_label, decider) => {
      const runner = stubRunner(() => ({}));
      const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
      const p = await pending(call, { path: '/workspace/self-approve' });
      const decide = await decider();
      const refusalsBefore = (await auditOf('tool.approval.refused', p.approvalId)).length;
      for (const decision of ['approve', 'deny'])
        await expectError(await decide(`/api/v1/approvals/${p.approvalId}`, { decision, argumentsHash: p.hash }), 403, 'FORBIDDEN');
      expect(await approvalRow(p.approvalId)).toMatchObject({ status: 'pending', decided_by: null, decided_at: null });
      expect((await invocationRow(p.invocationId))?.status).toBe('pending_approval');
      expect(runner.calls).toEqual([]);
      expect(await auditOf('tool.approval.decided', p.approvalId)).toEqual([]);
      expect((await auditOf('tool.approval.refused', p.approvalId)).length).toBe(refusalsBefore + 2);
      // The rightful approver can still decide it.
      expect((await call(approver, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'deny' } })).status).toBe(200);
    });

    it('a call requested from a session cannot be approved by that session', async () => {
      const runner = stubRunner(() => ({}));
      const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
      const res = await call(approver, `/api/v1/agents/${strictAgent}/tools/cat/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/workspace/mine' } },
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const [row] = (await env.DB.prepare('SELECT id FROM approvals WHERE invocation_id = ?').bind(id).all<{ id: string }>()).results;
      await expectError(
        await call(approver, `/api/v1/approvals/${row!.id}`, { method: 'POST', body: { decision: 'approve' } }),
        403,
        'FORBIDDEN',
      );
      expect(await approvalRow(row!.id)).toMatchObject({ status: 'pending', requested_by_user_id: approver.userId });
      expect(runner.calls).toEqual([]);
    });

    it('a call a person requested from a session cannot be approved by their own decision key either', async () => {
      const runner = stubRunner(() => ({}));
      const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
      const res = await call(approver, `/api/v1/agents/${strictAgent}/tools/cat/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/workspace/mine-by-key' } },
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const [row] = (await env.DB.prepare('SELECT id FROM approvals WHERE invocation_id = ?').bind(id).all<{ id: string }>()).results;
      const ownDecisionKey = await createKey(approver, ['approvals:decide']);
      await expectError(
        await keyApp({ bindings: LOCAL_EXECUTOR })(ownDecisionKey.key, `/api/v1/approvals/${row!.id}`, {
          method: 'POST',
          body: { decision: 'approve' },
        }),
        403,
        'FORBIDDEN',
      );
      expect(await approvalRow(row!.id)).toMatchObject({ status: 'pending', decided_by: null });
      expect(runner.calls).toEqual([]);
      expect((await auditOf('tool.approval.refused', row!.id)).map((e) => e.data.reason)).toEqual(['own-request']);
    });

    it.each([
      ['in person, from a session', 'session'],
      ['through a decision key (approvals:decide) of their own', 'decision-key'],
    ] as const)('the member who made the agent’s key decides its calls %s (a one-member deployment can approve)', async (_label, how) => {
      const runner = stubRunner(() => ({ stdout: 'approved by the key’s creator' }));
      const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
      const p = await pending(call, { path: `/workspace/creator-${how}` });
      expect(await approvalRow(p.approvalId)).toMatchObject({
        requested_by_user_id: owner.userId,
        requested_by_credential_id: agentKey.id,
      });
      const body = { decision: 'approve', argumentsHash: p.hash };
      const res =
        how === 'session'
          ? await call(owner, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body })
          : await keyApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR })(
              (await createKey(owner, ['approvals:decide'])).key,
              `/api/v1/approvals/${p.approvalId}`,
              { method: 'POST', body },
            );
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id: p.invocationId, status: 'completed' });
      expect(runner.calls.map((c) => c.body.argv)).toEqual([['cat', `/workspace/creator-${how}`]]);
      expect((await approvalRow(p.approvalId))?.status).toBe('approved');
    });

    it('a tool reinstalled with a stricter schema while the call waited is not approved into a run (409, still pending)', async () => {
      const agent = await newAgent('reinstalled-bot', { cat: { approval: 'always' } });
      const runner = stubRunner(() => ({ stdout: 'must not run' }));
      const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
      const res = await keyApp({ bindings: LOCAL_EXECUTOR })(agentKey.key, `/api/v1/agents/${agent}/tools/cat/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/workspace/a-rather-long-name.txt' } },
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      const [row] = (await env.DB.prepare('SELECT id FROM approvals WHERE invocation_id = ?').bind(id).all<{ id: string }>()).results;
      // Removed and reinstalled under the same name: the path may now be at most 10 characters.
      expect((await asSession(owner, `/api/v1/agents/${agent}/tools/cat`, { method: 'DELETE' })).status).toBe(204);
      // Only `cat` (its sibling `gh` is still installed), now allowing paths of 10 characters at most.
      const cat = structuredClone(TEST_MANIFEST.tools.find((t) => t.name === 'cat')!);
      (cat.inputSchema.properties.path as { maxLength: number }).maxLength = 10;
      const stricter = { ...TEST_MANIFEST, tools: [cat] };
      expect(
        (
          await asSession(owner, `/api/v1/agents/${agent}/tools`, {
            method: 'POST',
            body: { manifest: stricter, tools: { cat: { approval: 'always' } } },
          })
        ).status,
      ).toBe(201);
      await expectError(
        await call(approver, `/api/v1/approvals/${row!.id}`, { method: 'POST', body: { decision: 'approve' } }),
        409,
        'CONFLICT',
      );
      expect(await approvalRow(row!.id)).toMatchObject({ status: 'pending', decided_by: null });
      expect((await invocationRow(id))?.status).toBe('pending_approval');
      expect(runner.calls).toEqual([]);
      // Denying it still works.
      expect((await call(approver, `/api/v1/approvals/${row!.id}`, { method: 'POST', body: { decision: 'deny' } })).status).toBe(200);
      expect((await approvalRow(row!.id))?.status).toBe('denied');
    });

    it('an approval whose requester is not recorded is decided by nobody (fail closed)', async () => {
      const call = toolApp({ bindings: LOCAL_EXECUTOR });
      const p = await pending(call, { path: '/workspace/legacy' });
      await env.DB.prepare('UPDATE approvals SET requested_by_user_id = NULL, requested_by_credential_id = NULL WHERE id = ?')
        .bind(p.approvalId)
        .run();
      await expectError(
        await call(approver, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } }),
        403,
        'FORBIDDEN',
      );
      expect((await approvalRow(p.approvalId))?.status).toBe('pending');
    });

    it('a key holding tools:invoke with approvals:decide or admin is never created (400, no row)', async () => {
      const before = await countRows('api_keys');
      const err = await expectError(
        await asSession(owner, '/api/v1/api-keys', {
          method: 'POST',
          body: { name: 'agent+approver', scopes: ['tools:invoke', 'approvals:decide'] },
        }),
        400,
        'VALIDATION_ERROR',
      );
      expect(err.fields).toEqual(['scopes']);
      // Nor with admin, which would let the agent's key invite a person to approve for it.
      await expectError(
        await asSession(owner, '/api/v1/api-keys', { method: 'POST', body: { name: 'agent+admin', scopes: ['admin', 'tools:invoke'] } }),
        400,
        'VALIDATION_ERROR',
      );
      expect(await countRows('api_keys')).toBe(before);
    });

    it('a key forced to hold admin next to tools:invoke cannot invite an approver (admin dropped at use; no user, no token)', async () => {
      const forced = await createKey(owner, ['tools:invoke']);
      await env.DB.prepare('UPDATE api_keys SET scopes = ? WHERE id = ?')
        .bind(JSON.stringify(['admin', 'tools:invoke']), forced.id)
        .run();
      const me = (await (await asKey(forced.key, '/api/v1/me')).json()) as { auth: { scopes: string[] } };
      expect(me.auth.scopes).toEqual(['tools:invoke']);
      const before = { users: await countRows('users'), tokens: await countRows('one_time_tokens') };
      await expectError(
        await asKey(forced.key, '/api/v1/users', { method: 'POST', body: { email: 'sock-puppet@example.com', role: 'operator' } }),
        403,
        'FORBIDDEN',
      );
      expect({ users: await countRows('users'), tokens: await countRows('one_time_tokens') }).toEqual(before);
    });

    it('a decision key (approvals:decide) of another person approves, and the call runs', async () => {
      const runner = stubRunner(() => ({ stdout: 'by key' }));
      const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
      const p = await pending(call, { path: '/workspace/by-key' });
      const decideKey = await createKey(approver, ['approvals:decide']);
      const keyCall = keyApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
      const list = (await (await keyCall(decideKey.key, '/api/v1/approvals')).json()) as { approvals: Array<{ id: string }> };
      expect(list.approvals.map((a) => a.id)).toContain(p.approvalId);
      const res = await keyCall(decideKey.key, `/api/v1/approvals/${p.approvalId}`, {
        method: 'POST',
        body: { decision: 'approve', argumentsHash: p.hash },
      });
      expect(await res.json()).toMatchObject({ id: p.invocationId, status: 'completed', stdout: 'by key' });
      expect(await approvalRow(p.approvalId)).toMatchObject({ status: 'approved', decided_by: `api_key:${decideKey.id}` });
    });
  });

  it('deny: the call is denied and never runs', async () => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const p = await pending(call, { path: '/etc/shadow' });
    const denied = await call(approver, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'deny' } });
    expect(await denied.json()).toMatchObject({ id: p.invocationId, status: 'denied' });
    expect((await invocationRow(p.invocationId))?.status).toBe('denied');
    await expectError(
      await call(approver, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } }),
      409,
      'CONFLICT',
    );
    expect(runner.calls).toEqual([]);
    expect(await auditOf('tool.approval.decided', p.approvalId)).toEqual([
      {
        actor: `user:${approver.userId}`,
        data: { agentId: strictAgent, tool: 'cat', invocationId: p.invocationId, approvalId: p.approvalId, decision: 'denied' },
      },
    ]);
  });

  it('re-checks the agent at approval time: isolation raised to container after the request → refused like a new request, nothing run', async () => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const id = await newAgent('tightened-bot', { cat: { approval: 'always' } });
    const res = await keyApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR })(
      agentKey.key,
      `/api/v1/agents/${id}/tools/cat/invocations`,
      { method: 'POST', body: { arguments: { path: '/workspace/x' } } },
    );
    expect(res.status).toBe(202);
    const { id: invocationId } = (await res.json()) as { id: string };
    const [approval] = (await env.DB.prepare('SELECT id FROM approvals WHERE invocation_id = ?').bind(invocationId).all<{ id: string }>())
      .results;
    expect((await asSession(owner, `/api/v1/agents/${id}`, { method: 'PATCH', body: { isolation: 'container' } })).status).toBe(200);
    // The approval runs the same checks a new request's run would (run.ts rule 2b), against the agent as it is now.
    const err = await expectError(
      await call(approver, `/api/v1/approvals/${approval!.id}`, { method: 'POST', body: { decision: 'approve' } }),
      403,
      'POLICY_DENIED',
    );
    expect(err.message).toMatch(/container isolation/);
    expect(runner.calls).toEqual([]);
    const row = await env.DB.prepare('SELECT status, stop_reason FROM tool_invocations WHERE id = ?').bind(invocationId).first();
    expect(row).toEqual({ status: 'failed', stop_reason: 'isolation-not-allowed' });
    expect(await auditOf('tool.invocation.refused', id)).toEqual([
      { actor: 'system', data: { agentId: id, tool: 'cat', reason: 'isolation-not-allowed' } },
    ]);
    expect(await auditOf('tool.invoked', invocationId)).toEqual([]);
  });

  it('expires after 10 minutes (clock injected): then it is denied and cannot be approved', async () => {
    let now = Date.now();
    const runner = stubRunner(() => ({}));
    const call = toolApp({ now: () => now, fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const p = await pending(
      call,
      { path: '/workspace/late' },
      'cat',
      keyApp({ now: () => now, fetch: runner.fetch, bindings: LOCAL_EXECUTOR }),
    );
    now += 10 * 60_000 + 1;
    await expectError(
      await call(approver, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } }),
      409,
      'CONFLICT',
    );
    expect((await invocationRow(p.invocationId))?.status).toBe('expired');
    const list = (await (await call(approver, '/api/v1/approvals')).json()) as { approvals: Array<{ id: string }> };
    expect(list.approvals.map((a) => a.id)).not.toContain(p.approvalId);
    expect(runner.calls).toEqual([]);
  });

  it('an approval cannot be reused for different arguments', async () => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const p = await pending(call, { path: '/workspace/a' });
    // The approver's confirmation names other arguments → refused, still pending.
    const otherHash = await argumentsHash({ path: '/workspace/b' });
    await expectError(
      await call(approver, `/api/v1/approvals/${p.approvalId}`, {
        method: 'POST',
        body: { decision: 'approve', argumentsHash: otherHash },
      }),
      409,
      'CONFLICT',
    );
    // The stored arguments were changed after the approval was shown → refused, nothing runs.
    await env.DB.prepare('UPDATE tool_invocations SET arguments = ? WHERE id = ?')
      .bind(JSON.stringify({ path: '/etc/shadow' }), p.invocationId)
      .run();
    await expectError(
      await call(approver, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } }),
      409,
      'CONFLICT',
    );
    // A new call with other arguments gets its own approval; nothing carries over.
    const q = await pending(call, { path: '/workspace/b' });
    expect(q.approvalId).not.toBe(p.approvalId);
    expect(runner.calls).toEqual([]);
  });

  it('on-miss: arguments inside the allowlist run at once, others wait for approval', async () => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    expect(
      (
        await call(owner, `/api/v1/agents/${strictAgent}/tools/gh/invocations`, {
          method: 'POST',
          body: { arguments: { repo: 'octo/cat' } },
        })
      ).status,
    ).toBe(200);
    await pending(call, { repo: 'evil/exfil' }, 'gh');
    expect(runner.calls).toHaveLength(1);
  });

  it('another workspace neither sees nor decides A’s approvals (404, still pending)', async () => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const p = await pending(call, { path: '/workspace/mine' });
    const listB = (await (await call(ownerB, '/api/v1/approvals')).json()) as { approvals: unknown[] };
    expect(listB.approvals).toEqual([]);
    await expectError(
      await call(ownerB, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } }),
      404,
      'NOT_FOUND',
    );
    expect((await invocationRow(p.invocationId))?.status).toBe('pending_approval');
    expect(runner.calls).toEqual([]);
  });
});
