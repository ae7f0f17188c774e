/**
 * RUNNER_ISOLATION=container: inside the Cloudflare Container the container is the sandbox, so
 * the runner spawns tools directly, with the same timeout, group kill and output cap.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_UIDS, bwrapPrefix, makeScratch, processesWith, startRunner, waitFor, type TestRunner } from './helpers.ts';

const SANDBOX_UID = SANDBOX_UIDS.container;
const scratch = makeScratch();
const workdir = join(scratch.root, 'container-workspace');
let runner: TestRunner;

beforeAll(async () => {
  mkdirSync(workdir);
  runner = await startRunner({ isolation: 'container', containerWorkdir: workdir, workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UID });
});

afterAll(async () => {
  await runner.close();
  scratch.cleanup();
});

const base = { tool: 't', env: {}, timeoutMs: 5_000, outputLimitBytes: 65_536 };

describe('container isolation (no bwrap inside the container)', { timeout: 20_000 }, () => {
  it('runs argv directly in the configured working directory with only the given environment', async () => {
    process.env.RUNNER_TEST_LEAK = 'runner-env-must-not-leak';
    const { status, json } = await runner.post({ ...base, argv: ['sh', '-c', 'pwd; env'], env: { A: '1' } });
    expect(status).toBe(200);
    expect(json.stdout).toContain(`${workdir}\n`);
    expect(json.stdout).toContain('A=1');
    expect(json.stdout).not.toContain('runner-env-must-not-leak');
  });

  it('refuses a bwrap request: that is a wiring error, not something to run another way', async () => {
    const { status, json } = await runner.post({ ...base, argv: ['true'], sandbox: { bwrapArgv: bwrapPrefix({ workspace: workdir, workspaceMode: 'rw' }) } });
    expect(status).toBe(403);
    expect(json.error?.code).toBe('POLICY_DENIED');
  });

  it('kills the whole process group on timeout, including a grandchild that ignores SIGTERM', async () => {
    const marker = `${Date.now() % 100000}3`;
    const pending = runner.post({ ...base, timeoutMs: 1_000, argv: ['sh', '-c', `trap '' TERM; sh -c "trap '' TERM; sleep ${marker}" & sleep ${marker}1 & wait`] });
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 2, 900)).toBe(true);
    const { json } = await pending;
    expect(json.stopReason).toBe('timeout');
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 0)).toBe(true);
  });

  it('cuts stdout and stderr at one shared cap', async () => {
    const { json } = await runner.post({ ...base, outputLimitBytes: 4_096, argv: ['sh', '-c', 'yes out & yes err >&2'] });
    expect(json.stopReason).toBe('output-limit');
    expect(json.truncated).toBe(true);
    expect(Buffer.byteLength(json.stdout ?? '') + Buffer.byteLength(json.stderr ?? '')).toBe(4_096);
    expect(await waitFor(() => processesWith('yes\u0000out').length + processesWith('yes\u0000err').length === 0)).toBe(true);
  });

  it('reports a process killed by a signal nobody in the runner sent as killed', async () => {
    const { json } = await runner.post({ ...base, argv: ['sh', '-c', 'kill -9 $$'] });
    expect(json).toMatchObject({ stopReason: 'killed', signal: 'SIGKILL', exitCode: null });
  });

  it('kills the call when the gateway hangs up, and is free for the next one', async () => {
    const marker = `${Date.now() % 100000}9`;
    const request = runner.post({ ...base, timeoutMs: 60_000, argv: ['sleep', marker] }, { abortAfterMs: 400 }).catch((error: Error) => error);
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 1, 380)).toBe(true);
    expect(await request).toBeInstanceOf(Error);
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // let the runner settle the aborted call
    expect((await runner.post({ ...base, argv: ['true'] })).status).toBe(200);
  });

  it('reports a command that does not exist as exit 127 without detail', async () => {
    const { json } = await runner.post({ ...base, argv: ['/no/such/tool'] });
    expect(json).toMatchObject({ exitCode: 127, stopReason: 'exit' });
  });
});
