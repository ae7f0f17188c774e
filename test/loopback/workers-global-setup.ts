/**
 * Global setup of the Workers pool (vitest.workers.config.ts), run in Node once per run: the
 * two real servers the end-to-end tests (test/workers/agent-runtime-e2e.test.ts) reach from
 * workerd over loopback sockets, through the Worker's real global fetch:
 *   1. the scripted model server (model-server.ts), Chat Completions and Anthropic Messages;
 *   2. the real local runner as `npm run dev` runs it: dist/runner.mjs, rebuilt first so it
 *      matches the sources, its own process on a free port, bubblewrap isolation, a fresh
 *      RUNNER_SECRET and scratch workspace root, sandboxed calls as SANDBOX_UIDS.workersE2e.
 * Their addresses go to the tests through `provide('loopback', …)` (provided.d.ts). The
 * runner sandboxes only on Linux as root with bwrap: without them nothing is started and the
 * tests get the message naming what is missing and the install command instead, so the
 * end-to-end file fails with it (never skips) while the rest of the pool, and
 * `npm run openapi:update`, still run on a machine without a sandbox.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { SANDBOX_UIDS } from '../../containers/runner/test/helpers.ts';
import { startModelServer } from './model-server.ts';

const root = join(import.meta.dirname, '..', '..');
const BUNDLE = join(root, 'dist', 'runner.mjs');
/** Generous: a loaded machine may take a while to start Node twice (the runner re-executes itself). */
const RUNNER_START_DEADLINE_MS = 60_000;
const RUNNER_STOP_GRACE_MS = 5_000;

function missingForSandbox(): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push(`Linux (this is ${process.platform})`);
  if (process.getuid?.() !== 0) missing.push('root (the runner drops each tool call to an unprivileged uid)');
  if (spawnSync('bwrap', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('bubblewrap (bwrap)');
  return missing;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForRunner(runner: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + RUNNER_START_DEADLINE_MS;
  for (;;) {
    if (runner.exitCode !== null || runner.signalCode !== null)
      throw new Error(`the local runner exited at start (${runner.signalCode ?? `exit ${runner.exitCode}`})`);
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    if (Date.now() > deadline) throw new Error(`the local runner did not answer ${url}/healthz in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stopRunner(runner: ChildProcess): Promise<void> {
  if (runner.exitCode !== null || runner.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => runner.kill('SIGKILL'), RUNNER_STOP_GRACE_MS);
    runner.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    runner.kill('SIGTERM');
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = missingForSandbox();
  if (missing.length > 0) {
    project.provide('loopback', {
      missing: `The Workers end-to-end tests run tool calls in the real local sandbox and need ${missing.join(', ')}. Install with: sudo npm run setup:system (Debian/Ubuntu; see README "Tests").`,
    });
    return async () => {};
  }
  const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-runner.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('building dist/runner.mjs failed');

  // 0711 all the way down: the sandbox uid reaches its workspace through these without listing them.
  const scratch = mkdtempSync('/tmp/portcullis-workers-e2e-');
  const workDir = join(scratch, 'work');
  const workspaceRoot = join(scratch, 'workspaces');
  for (const dir of [scratch, workDir, workspaceRoot]) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o711);
  }
  const runnerSecret = randomBytes(32).toString('base64url');
  const runnerPort = await freePort();
  const uid = SANDBOX_UIDS.workersE2e;
  const runner = spawn(process.execPath, [BUNDLE], {
    cwd: root,
    // Its JSON log lines (one per call) would only crowd the test output; failures show on stderr.
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      RUNNER_SECRET: runnerSecret,
      RUNNER_ISOLATION: 'bwrap',
      RUNNER_HOST: '127.0.0.1',
      RUNNER_PORT: String(runnerPort),
      RUNNER_WORK_DIR: workDir,
      RUNNER_WORKSPACE_ROOT: workspaceRoot,
      RUNNER_SANDBOX_UID: String(uid),
      RUNNER_SANDBOX_GID: String(uid),
      RUNNER_MAX_PROCESSES: '64',
    },
  });
  const runnerUrl = `http://127.0.0.1:${runnerPort}`;
  let model: Awaited<ReturnType<typeof startModelServer>> | undefined;
  try {
    await waitForRunner(runner, runnerUrl);
    model = await startModelServer(0);
  } catch (error) {
    await stopRunner(runner);
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  project.provide('loopback', {
    modelOrigin: model.origin,
    modelHost: new URL(model.origin).host,
    runnerUrl,
    runnerSecret,
    runnerWorkspaceRoot: workspaceRoot,
    sandboxUid: uid,
  });
  return async () => {
    await model.close();
    await stopRunner(runner);
    rmSync(scratch, { recursive: true, force: true });
  };
}
