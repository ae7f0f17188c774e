/**
 * RUNNER_ISOLATION=container: inside the Cloudflare Container the container is the sandbox, so
 * the runner spawns tools directly, with the same timeout, group kill and output cap, as the
 * image's unprivileged tool uid (the Dockerfile's 10001; here a uid of its own, same setup:
 * runner root, tools an ordinary uid under RLIMIT_NPROC), and kills every process of that uid
 * after each call.
 */
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_UIDS,
  bwrapPrefix,
  makeScratch,
  processesOfUid,
  processesWith,
  sampleUidDuring,
  startRunner,
  waitFor,
  waitForAsync,
  type TestRunner,
} from './helpers.ts';

const SANDBOX_UID = SANDBOX_UIDS.container;
const scratch = makeScratch();
const workdir = join(scratch.root, 'container-workspace');
let runner: TestRunner;

beforeAll(async () => {
  mkdirSync(workdir);
  chownSync(workdir, SANDBOX_UID, SANDBOX_UID); // as the image gives /workspace to its tool uid
  runner = await startRunner({
    isolation: 'container',
    containerWorkdir: workdir,
    workDir: scratch.workDir,
    workspaceRoot: scratch.workspaceRoot,
    uid: SANDBOX_UID,
  });
});

afterAll(async () => {
  await runner.close();
  scratch.cleanup();
});

const base = { tool: 't', env: {}, timeoutMs: 20_000, outputLimitBytes: 65_536 };

describe('container isolation (no bwrap inside the container)', { timeout: 60_000 }, () => {
  it('runs argv directly in the configured working directory with only the given environment', async () => {
    process.env.RUNNER_TEST_LEAK = 'runner-env-must-not-leak';
    const { status, json } = await runner.post({ ...base, argv: ['sh', '-c', 'pwd; env'], env: { A: '1' } });
    expect(status).toBe(200);
    expect(json.stdout).toContain(`${workdir}\n`);
    expect(json.stdout).toContain('A=1');
    expect(json.stdout).not.toContain('runner-env-must-not-leak');
  });

  it('refuses a bwrap request: that is a wiring error, not something to run another way', async () => {
    const { status, json } = await runner.post({
      ...base,
      argv: ['true'],
      sandbox: { bwrapArgv: bwrapPrefix({ workspace: workdir, workspaceMode: 'rw' }) },
    });
    expect(status).toBe(403);
    expect(json.error?.code).toBe('POLICY_DENIED');
  });

  it('kills the whole process group on timeout, including a grandchild that ignores SIGTERM', async () => {
    const marker = `${Date.now() % 100000}3`;
    const pending = runner.post({
      ...base,
      timeoutMs: 15_000,
      argv: ['sh', '-c', `trap '' TERM; sh -c "trap '' TERM; sleep ${marker}" & sleep ${marker}1 & wait`],
    });
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 2, 14_500)).toBe(true);
    const { json } = await pending;
    expect(json.stopReason).toBe('timeout');
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 0)).toBe(true);
  });

  it("runs tools as the unprivileged tool uid, which cannot read the runner's environment (/proc/<runner>/environ)", async () => {
    process.env.RUNNER_TEST_SECRET_ENV = 'runner-secret-in-env-must-not-leak';
    const { json } = await runner.post({
      ...base,
      argv: ['sh', '-c', `id -u; cat /proc/${process.pid}/environ; tr '\\0' '\\n' < /proc/${process.pid}/environ`],
    });
    expect(json.stdout?.split('\n')[0]).toBe(String(SANDBOX_UID));
    expect(json.stdout).not.toContain('runner-secret-in-env-must-not-leak');
    expect(json.stderr).toContain('Permission denied');
  });

  it("a setsid escapee (new session, outside the call's process group) does not outlive its call", async () => {
    const marker = `${Date.now() % 100000}5`;
    const { json } = await runner.post({
      ...base,
      argv: [
        'sh',
        '-c',
        `setsid sh -c 'sleep ${marker}' > /dev/null 2>&1 < /dev/null & for i in $(seq 100); do pgrep -fx 'sleep ${marker}' > /dev/null && break; sleep 0.1; done; pgrep -fx 'sleep ${marker}' > /dev/null && echo started`,
      ],
    });
    expect(json.stdout).toBe('started\n');
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 0)).toBe(true);
    expect(await waitFor(() => processesOfUid(SANDBOX_UID) === 0)).toBe(true);
  });

  it('contains a fork bomb as the tool uid (RLIMIT_NPROC), the host stays responsive, and nothing survives the call', async () => {
    const pending = runner.post({ ...base, timeoutMs: 8_000, argv: ['bash', '-c', 'b(){ b|b& }; b 2>/dev/null; sleep 60'] });
    const { peak, hostSpawns } = await sampleUidDuring(pending, SANDBOX_UID);
    const { json } = await pending;
    expect(json.stopReason).toBe('timeout');
    expect(peak).toBeGreaterThan(8); // the bomb really forked…
    expect(peak).toBeLessThanOrEqual(64); // …up to RLIMIT_NPROC and no further
    expect(hostSpawns).toBeGreaterThan(0);
    expect(await waitFor(() => processesOfUid(SANDBOX_UID) === 0)).toBe(true);
    // Reaped as well (by the host's init), so the uid's next call can fork again.
    expect(await waitFor(() => processesOfUid(SANDBOX_UID, { zombies: true }) === 0, 60_000)).toBe(true);
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
    const hangUp = new AbortController();
    const request = runner
      .post({ ...base, timeoutMs: 60_000, argv: ['sleep', marker] }, { signal: hangUp.signal })
      .catch((error: Error) => error);
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 1)).toBe(true);
    hangUp.abort();
    expect(await request).toBeInstanceOf(Error);
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 0)).toBe(true);
    // The runner settles the aborted call on its own schedule: poll until it takes a new one.
    expect(
      await waitForAsync(async () => (await runner.post({ ...base, argv: ['true'], env: { N: String(Math.random()) } })).status === 200),
    ).toBe(true);
  });

  it('reports a command that does not exist as exit 127 without detail', async () => {
    const { json } = await runner.post({ ...base, argv: ['/no/such/tool'] });
    expect(json).toMatchObject({ exitCode: 127, stopReason: 'exit' });
  });
});
