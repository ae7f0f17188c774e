/**
 * The runner's HTTP surface: request signing (HMAC over method, path, timestamp, body), one
 * invocation at a time, validation and fail-closed refusals. Every refused attempt also checks
 * that nothing ran (the command would have created a file in the workspace).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RUNNER_SIGNATURE_HEADER,
  RUNNER_TIMESTAMP_HEADER,
  deriveInstanceSecret,
  importRunnerKey,
  signRunnerRequest,
  verifyRunnerRequest,
} from '../../../src/protocol/index.ts';
import {
  SANDBOX_UIDS,
  TEST_SECRET,
  bwrapPrefix,
  makeScratch,
  processesWith,
  startRunner,
  waitFor,
  waitForAsync,
  type TestRunner,
} from './helpers.ts';

const SANDBOX_UID = SANDBOX_UIDS.runner;
const scratch = makeScratch();
let runner: TestRunner;

function touchCall(agent: string, extra: Record<string, unknown> = {}) {
  const workspace = join(scratch.workspaceRoot, agent);
  return {
    workspace,
    body: {
      tool: 't',
      argv: ['touch', 'ran'],
      env: {},
      timeoutMs: 5_000,
      outputLimitBytes: 1024,
      sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'rw' }) },
      ...extra,
    },
  };
}

function ran(workspace: string): boolean {
  return existsSync(join(workspace, 'ran'));
}

beforeAll(async () => {
  runner = await startRunner({ workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UID });
});

afterAll(async () => {
  await runner.close();
  scratch.cleanup();
});

describe('signing (shared with the Worker, WebCrypto only)', () => {
  it('matches an independent HMAC-SHA256 over "v1\\nMETHOD\\npath\\ntimestamp\\nbody"', async () => {
    const key = await importRunnerKey(TEST_SECRET);
    const headers = await signRunnerRequest(key, { method: 'post', path: '/invocations', body: '{"a":1}', nowS: 1_767_225_600 });
    const expected = createHmac('sha256', TEST_SECRET).update('v1\nPOST\n/invocations\n1767225600\n{"a":1}').digest('hex');
    expect(headers).toEqual({ [RUNNER_TIMESTAMP_HEADER]: '1767225600', [RUNNER_SIGNATURE_HEADER]: expected });
  });

  it.each([
    ['missing', { timestamp: undefined }],
    ['malformed', { signature: 'zz' }],
    ['stale', { nowS: 1_767_225_600 + 61 }],
    ['stale', { nowS: 1_767_225_600 - 61 }],
    ['mismatch', { body: '{"a":2}' }],
    ['mismatch', { path: '/invocations?x=1' }],
    ['mismatch', { method: 'PUT' }],
  ])('refuses a %s signature', async (kind, change) => {
    const key = await importRunnerKey(TEST_SECRET);
    const base = { method: 'POST', path: '/invocations', body: '{"a":1}', nowS: 1_767_225_600 };
    const headers = await signRunnerRequest(key, base);
    const input = { ...base, timestamp: headers[RUNNER_TIMESTAMP_HEADER], signature: headers[RUNNER_SIGNATURE_HEADER], ...change };
    expect(await verifyRunnerRequest(key, input)).toEqual({ ok: false, failure: { kind } });
    expect(
      await verifyRunnerRequest(key, {
        ...base,
        timestamp: headers[RUNNER_TIMESTAMP_HEADER],
        signature: headers[RUNNER_SIGNATURE_HEADER],
        nowS: base.nowS + 60,
      }),
    ).toMatchObject({ ok: true });
  });

  it('derives one key per ToolSandbox instance: HKDF-SHA256(RUNNER_SECRET, salt, instance id), checked against node:crypto', async () => {
    const a = await deriveInstanceSecret(TEST_SECRET, 'instance-a');
    const independent = Buffer.from(hkdfSync('sha256', TEST_SECRET, 'portcullis runner instance key v1', 'instance-a', 32)).toString('hex');
    expect(a).toBe(independent);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await deriveInstanceSecret(TEST_SECRET, 'instance-a')).toBe(a); // re-derived after eviction
    expect(await deriveInstanceSecret(TEST_SECRET, 'instance-b')).not.toBe(a);
    expect(await deriveInstanceSecret(`${TEST_SECRET}x`, 'instance-a')).not.toBe(a);
  });

  it('a runner keyed for one instance refuses requests signed for another instance or with the deployment secret, and runs nothing', async () => {
    const scratchA = makeScratch();
    const instanceA = await startRunner({
      workDir: scratchA.workDir,
      workspaceRoot: scratchA.workspaceRoot,
      uid: SANDBOX_UID,
      secret: await deriveInstanceSecret(TEST_SECRET, 'instance-a'),
    });
    try {
      const workspace = join(scratchA.workspaceRoot, 'agent-a');
      const body = JSON.stringify({
        tool: 't',
        argv: ['touch', 'ran'],
        env: {},
        timeoutMs: 5_000,
        outputLimitBytes: 1024,
        sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'rw' }) },
      });
      for (const secret of [await deriveInstanceSecret(TEST_SECRET, 'instance-b'), TEST_SECRET]) {
        const headers = await signRunnerRequest(await importRunnerKey(secret), {
          method: 'POST',
          path: '/invocations',
          body,
          nowS: Math.floor(Date.now() / 1000),
        });
        const res = await fetch(`${instanceA.url}/invocations`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body,
        });
        expect(res.status).toBe(401);
        expect(ran(workspace)).toBe(false);
      }
      const own = await signRunnerRequest(await importRunnerKey(await deriveInstanceSecret(TEST_SECRET, 'instance-a')), {
        method: 'POST',
        path: '/invocations',
        body,
        nowS: Math.floor(Date.now() / 1000),
      });
      expect(
        (await fetch(`${instanceA.url}/invocations`, { method: 'POST', headers: { ...own, 'content-type': 'application/json' }, body }))
          .status,
      ).toBe(200);
      expect(ran(workspace)).toBe(true);
    } finally {
      await instanceA.close();
      scratchA.cleanup();
    }
  });

  it('refuses a secret shorter than 32 characters', async () => {
    await expect(importRunnerKey('short-secret')).rejects.toThrow('at least 32');
  });
});

describe('runner HTTP surface', { timeout: 30_000 }, () => {
  it('answers GET /healthz without a signature and says nothing else', async () => {
    const res = await fetch(`${runner.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, isolation: 'bwrap' });
  });

  it.each([
    ['an unsigned request', { sign: false }],
    ['a stale signature (61 s old)', { nowOffsetS: -61 }],
    ['a signature from the future (61 s ahead)', { nowOffsetS: 61 }],
    [
      'a wrong signature',
      {
        tamper: (h: Record<string, string>) => {
          h[RUNNER_SIGNATURE_HEADER] = (h[RUNNER_SIGNATURE_HEADER] ?? '').replace(/^./, (c) => (c === '0' ? '1' : '0'));
        },
      },
    ],
    [
      'a signature without its timestamp',
      {
        tamper: (h: Record<string, string>) => {
          delete h[RUNNER_TIMESTAMP_HEADER];
        },
      },
    ],
    [
      'a timestamp changed after signing',
      {
        tamper: (h: Record<string, string>) => {
          h[RUNNER_TIMESTAMP_HEADER] = String(Number(h[RUNNER_TIMESTAMP_HEADER]) - 1);
        },
      },
    ],
  ])(
    'refuses %s with 401 and runs nothing',
    async (_name, { nowOffsetS, ...options }: { nowOffsetS?: number; sign?: boolean; tamper?: (h: Record<string, string>) => void }) => {
      const { workspace, body } = touchCall(`agent-auth-${Math.random().toString(36).slice(2)}`);
      const nowS = nowOffsetS === undefined ? undefined : Math.floor(Date.now() / 1000) + nowOffsetS;
      const { status, json } = await runner.post(body, { ...options, nowS });
      expect(status).toBe(401);
      expect(json.error?.code).toBe('UNAUTHENTICATED');
      expect(ran(workspace)).toBe(false);
    },
  );

  it('refuses a body swapped under a valid signature (signed for another body)', async () => {
    const { workspace, body } = touchCall('agent-swap');
    const signedFor = JSON.stringify({ ...body, argv: ['true'] });
    const key = await importRunnerKey(TEST_SECRET);
    const headers = await signRunnerRequest(key, {
      method: 'POST',
      path: '/invocations',
      body: signedFor,
      nowS: Math.floor(Date.now() / 1000),
    });
    const res = await fetch(`${runner.url}/invocations`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(401);
    expect(ran(workspace)).toBe(false);
  });

  it('refuses a replayed request inside the freshness window', async () => {
    const { workspace, body } = touchCall('agent-replay');
    let captured: Record<string, string> = {};
    const first = await runner.post(body, {
      tamper: (h) => {
        captured = { ...h };
      },
    });
    expect(first.status).toBe(200);
    expect(ran(workspace)).toBe(true);
    const res = await fetch(`${runner.url}/invocations`, { method: 'POST', headers: captured, body: JSON.stringify(body) });
    expect(res.status).toBe(401);
  });

  it('runs one invocation at a time: a concurrent one gets 409 CONFLICT and does not run', { timeout: 150_000 }, async () => {
    const marker = `${Date.now() % 100000}4`;
    const slow = touchCall('agent-slow', { argv: ['sleep', marker], timeoutMs: 120_000 });
    const second = touchCall('agent-second');
    const hangUp = new AbortController();
    let settled: unknown = null;
    const pending = runner.post(slow.body, { signal: hangUp.signal }).then(
      (r) => (settled = r),
      (error: Error) => (settled = error),
    );
    try {
      // The first call is really running (its bwrap or its sleep exists; bwrap's own command
      // line ends in `sleep <marker>` too) before the second arrives. Generous deadline: a loaded
      // machine can take long to start bwrap.
      expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length >= 1 || settled !== null, 100_000)).toBe(true);
      expect(settled).toBeNull(); // still running, not refused
      const { status, json } = await runner.post(second.body);
      expect(status).toBe(409);
      expect(json.error?.code).toBe('CONFLICT');
      expect(ran(second.workspace)).toBe(false);
    } finally {
      hangUp.abort(); // never leave the runner busy for the tests after this one
    }
    expect(await pending).toBeInstanceOf(Error);
    // Free again afterwards (polled: the runner settles the aborted call on its own schedule).
    expect(await waitForAsync(async () => (await runner.post({ ...second.body, env: { N: String(Math.random()) } })).status === 200)).toBe(
      true,
    );
    expect(ran(second.workspace)).toBe(true);
  });

  it.each([
    ['both argv and mcp', { mcp: { command: ['x'], tool: 'y', arguments: {} } }],
    ['neither argv nor mcp', { argv: undefined }],
    ['an unknown field', { shell: true }],
    ['a timeout above the maximum', { timeoutMs: 10 * 60_000 + 1 }],
    ['an environment name that is not a name', { env: { 'A=B': 'x' } }],
  ])('refuses %s with 400 and runs nothing', async (_name, extra) => {
    const { workspace, body } = touchCall(`agent-val-${Math.random().toString(36).slice(2)}`, extra);
    const { status, json } = await runner.post(body);
    expect(status).toBe(400);
    expect(json.error?.code).toBe('VALIDATION_ERROR');
    expect(ran(workspace)).toBe(false);
  });

  it.each([
    ['no sandbox at all (the local executor never runs unsandboxed)', (ws: string) => ({ sandbox: undefined, _ws: ws })],
    [
      'a prefix that shares the network',
      (ws: string) => ({ sandbox: { bwrapArgv: [...bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }), '--share-net'] } }),
    ],
    [
      'a prefix without a network namespace',
      (ws: string) => ({
        sandbox: { bwrapArgv: bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }).filter((a) => a !== '--unshare-all') },
      }),
    ],
    [
      'a prefix that keeps the environment',
      (ws: string) => ({ sandbox: { bwrapArgv: bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }).filter((a) => a !== '--clearenv') } }),
    ],
    ['a prefix that is not bwrap', (ws: string) => ({ sandbox: { bwrapArgv: ['env', ws] } })],
    // The prefix is parsed option by option (bwrap-argv.ts), never searched with includes():
    [
      'required flags hidden as --setenv values (bwrap would read them as values: no namespaces)',
      (ws: string) => ({
        sandbox: {
          bwrapArgv: bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }).flatMap((a) =>
            ['--unshare-all', '--die-with-parent', '--clearenv'].includes(a) ? ['--setenv', 'HIDE', a] : [a],
          ),
        },
      }),
    ],
    [
      'required flags after an early `--`',
      (ws: string) => ({
        sandbox: {
          bwrapArgv: [
            'bwrap',
            '--ro-bind',
            '/usr',
            '/usr',
            '--bind',
            ws,
            '/workspace',
            '--',
            '--unshare-all',
            '--die-with-parent',
            '--clearenv',
          ],
        },
      }),
    ],
    [
      'an option the runner does not know (--cap-add ALL)',
      (ws: string) => ({ sandbox: { bwrapArgv: [...bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }), '--cap-add', 'ALL'] } }),
    ],
    [
      'a mount option the compiler never emits (--dev-bind / /host)',
      (ws: string) => ({ sandbox: { bwrapArgv: [...bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }), '--dev-bind', '/', '/host'] } }),
    ],
    [
      'arguments read from a file descriptor (--args 0)',
      (ws: string) => ({ sandbox: { bwrapArgv: [...bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }), '--args', '0'] } }),
    ],
    [
      'an option missing its argument',
      (ws: string) => ({ sandbox: { bwrapArgv: [...bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }), '--ro-bind', '/usr'] } }),
    ],
    [
      'a prefix without a PID namespace (a setsid child would outlive the call)',
      (ws: string) => ({
        sandbox: {
          bwrapArgv: bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }).flatMap((a) =>
            a === '--unshare-all' ? ['--unshare-user', '--unshare-net', '--unshare-ipc'] : [a],
          ),
        },
      }),
    ],
    [
      "a read-only bind of another agent's directory",
      (ws: string) => ({
        sandbox: {
          bwrapArgv: bwrapPrefix({
            workspace: ws,
            workspaceMode: 'rw',
            roBinds: [[join(scratch.workspaceRoot, 'agent-victim'), '/victim']],
          }),
        },
      }),
    ],
    [
      'a read-only bind of the whole workspace root',
      (ws: string) => ({
        sandbox: { bwrapArgv: bwrapPrefix({ workspace: ws, workspaceMode: 'rw', roBinds: [[scratch.workspaceRoot, '/all']] }) },
      }),
    ],
    [
      "a read-only bind of a directory holding the runner's work dir",
      (ws: string) => ({
        sandbox: { bwrapArgv: bwrapPrefix({ workspace: ws, workspaceMode: 'rw', roBinds: [[scratch.root, '/scratch']] }) },
      }),
    ],
    [
      'a --ro-bind-try inside the workspace root (it would be mounted by path, not pinned)',
      (ws: string) => ({
        sandbox: {
          bwrapArgv: [
            ...bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }).slice(0, -4),
            '--ro-bind-try',
            ws,
            '/also',
            '--remount-ro',
            '/',
            '--chdir',
            '/workspace',
          ],
        },
      }),
    ],
    [
      'a bind source that is not normalized (..)',
      (ws: string) => ({ sandbox: { bwrapArgv: bwrapPrefix({ workspace: `${ws}/../${ws.split('/').at(-1)}`, workspaceMode: 'rw' }) } }),
    ],
  ])('refuses %s with 403 POLICY_DENIED and runs nothing', async (_name, make) => {
    const agent = `agent-deny-${Math.random().toString(36).slice(2)}`;
    const { workspace, body } = touchCall(agent);
    const changed = make(workspace);
    delete (changed as { _ws?: string })._ws;
    const { status, json } = await runner.post({ ...body, ...changed });
    expect(status).toBe(403);
    expect(json.error?.code).toBe('POLICY_DENIED');
    expect(ran(workspace)).toBe(false);
    expect(existsSync(workspace) ? readdirSync(workspace) : []).toEqual([]);
  });

  it('answers unknown paths 404 and wrong methods 405 in the error envelope', async () => {
    const notFound = await fetch(`${runner.url}/nope`);
    expect(notFound.status).toBe(404);
    const wrongMethod = await fetch(`${runner.url}/invocations`);
    expect(wrongMethod.status).toBe(405);
    expect(((await wrongMethod.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
  });
});
