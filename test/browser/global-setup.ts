/**
 * Starts `npm run dev` in this worktree on BROWSER_TEST_PORT with its own fresh local state
 * (.wrangler/browser-state, removed first) and stops it afterwards. Its secrets (SETUP_TOKEN…)
 * go to an env file inside that state (`--dev-vars`), never to the project's .dev.vars, which
 * stays the developer's own; the tests read the setup token from BROWSER_ENV_FILE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const BROWSER_TEST_PORT = 8794;
/** The stand-in model provider's port (test/loopback/model-server.ts); this run's gateway may call it over http. */
export const BROWSER_MODEL_PORT = 8795;
const root = join(import.meta.dirname, '..', '..');
const STATE_DIR = '.wrangler/browser-state';
export const BROWSER_ENV_FILE = join(root, STATE_DIR, 'dev.vars');
const READY_TIMEOUT_MS = 180_000;

let dev: ChildProcess | undefined;

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (dev?.exitCode !== null && dev?.exitCode !== undefined) throw new Error(`npm run dev exited with ${dev.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`npm run dev did not answer ${url} in time`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function setup(): Promise<void> {
  rmSync(join(root, STATE_DIR), { recursive: true, force: true });
  mkdirSync(join(root, STATE_DIR), { recursive: true });
  const modelHost = `MODEL_PRIVATE_HOSTS:127.0.0.1:${BROWSER_MODEL_PORT}`;
  const args = ['--port', String(BROWSER_TEST_PORT), '--persist-to', STATE_DIR, '--dev-vars', BROWSER_ENV_FILE, '--var', modelHost];
  dev = spawn('npm', ['run', 'dev', '--', ...args], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true, // its own process group: teardown stops wrangler, workerd and the runner together
  });
  await waitUntilReady(`http://localhost:${BROWSER_TEST_PORT}/healthz`);
}

export async function teardown(): Promise<void> {
  if (!dev?.pid) return;
  try {
    process.kill(-dev.pid, 'SIGTERM');
  } catch {
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  try {
    process.kill(-dev.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
