#!/usr/bin/env node
// `npm run dev [-- wrangler dev args]`: one command from a fresh clone to a running gateway.
// 1. creates .dev.vars (git-ignored) with freshly generated local secrets, once
//    (`--dev-vars <path>`: that file instead, e.g. the browser tests' own, given to wrangler as
//    its `--env-file`; not `--env-file` itself, which the node shim takes); it holds secrets
//    only: the local tool-execution settings go to wrangler as `--var`, so that a developer's
//    .dev.vars (which the Workers test pool also reads) never turns the tests' defaults local;
// 2. applies pending D1 migrations to the local database;
// 3. starts `wrangler dev` with local D1 and Durable Objects (and its local trace capture off
//    unless X_LOCAL_OBSERVABILITY is set: scripts/wrangler-env.mjs), passing extra args through
//    (e.g. `npm run dev -- --port 8788 --ip 0.0.0.0`); a `--persist-to <dir>` also receives the
//    migrations (the browser tests run against a fresh state of their own);
// 4. beside it, the local tool runner (dist/runner.mjs, bubblewrap sandbox) on the port of
//    RUNNER_URL in .dev.vars (default 127.0.0.1:8791), when this machine can sandbox (root and
//    bwrap present); otherwise a warning and the gateway alone. A wrangler `--port` equal to the
//    runner's, or that port already taken, is refused with a message, never left to collide.
//    A runner that dies is restarted with backoff (1 s doubling to 30 s), and says so. Both
//    stop together.
// `--containers`: wrangler dev runs the real ToolSandbox container (dev.enable_containers,
//    TOOL_EXECUTOR=container) instead of the local runner; needs Docker (docs/sandbox.md).
// `--remote-ai`: the `AI` binding reaches the real Workers AI (needs `wrangler login`, may incur
//    charges). Without it wrangler dev runs `--local`: the `[ai]` binding has no local simulator
//    and would otherwise make wrangler ask for a Cloudflare login before serving anything; a
//    `workers-ai` agent then answers that its model provider could not be reached (docs/agents.md).
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wranglerEnv } from './wrangler-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** `--dev-vars <path>`, relative to the working directory: the env file instead of the project's .dev.vars. */
function devVarsArg(args) {
  const at = args.indexOf('--dev-vars');
  if (at === -1) return { path: null, rest: args };
  if (!args[at + 1]) {
    console.error('[dev] --dev-vars needs a path');
    process.exit(1);
  }
  return { path: resolve(args[at + 1]), rest: [...args.slice(0, at), ...args.slice(at + 2)] };
}
const devVarsOption = devVarsArg(process.argv.slice(2));
const devVarsPath = devVarsOption.path ?? join(root, '.dev.vars');

/** Every secret the Worker needs locally, and how to make a fresh one. */
const LOCAL_SECRETS = {
  SETUP_TOKEN: () => randomBytes(32).toString('base64url'),
  VAULT_KEYS: () => `local1:${randomBytes(32).toString('base64')}`,
  // HMAC key the gateway signs runner requests with; the local runner gets the same value.
  RUNNER_SECRET: () => randomBytes(32).toString('base64url'),
};

/**
 * Plain settings (not secrets) for local use: the Worker reaches the local runner. Passed as
 * `wrangler dev --var NAME:value`, never written to the env file; a value set in that file
 * (RUNNER_URL to move the runner, say) is the one passed.
 */
const LOCAL_VARS = {
  RUNNER_URL: () => `http://${RUNNER_HOST}:${RUNNER_PORT}`,
  TOOL_EXECUTOR: () => 'local',
  RUNNER_WORKSPACE_ROOT: () => join(root, '.local-runner', 'workspaces'),
};

const RUNNER_HOST = '127.0.0.1';
const RUNNER_PORT = 8791;
/** Restart backoff of a runner that died: 1 s, doubling, at most 30 s; reset after a minute up. */
const RESTART_FIRST_MS = 1_000;
const RESTART_MAX_MS = 30_000;
const RESTART_RESET_AFTER_MS = 60_000;

function readDevVars() {
  const text = existsSync(devVarsPath) ? readFileSync(devVarsPath, 'utf8') : '';
  return { text, values: Object.fromEntries([...text.matchAll(/^([A-Z_][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]])) };
}

/** The local tool-execution vars: each the env file's value when it sets one, else the default. */
function localVars() {
  const { values } = readDevVars();
  return Object.fromEntries(Object.entries(LOCAL_VARS).map(([name, make]) => [name, values[name] || make()]));
}

function ensureDevVars() {
  const { text: existing, values } = readDevVars();
  const missingSecrets = Object.entries(LOCAL_SECRETS).filter(([name]) => !(name in values));
  if (missingSecrets.length === 0) {
    console.log(`[dev] using local secrets from ${devVarsPath}`);
    return;
  }
  const header = existing ? '' : '# Local secrets for `wrangler dev`, generated by `npm run dev`. Never commit this file.\n';
  const lines = missingSecrets.map(([name, make]) => `${name}=${make()}`).join('\n');
  writeFileSync(devVarsPath, `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${header}${lines}\n`, { mode: 0o600 });
  console.log(`[dev] generated ${missingSecrets.map(([n]) => n).join(', ')} in ${devVarsPath}`);
  if (missingSecrets.some(([n]) => n === 'SETUP_TOKEN'))
    console.log('[dev] SETUP_TOKEN from that file authorises POST /api/v1/setup once.');
}

/** Why the local runner cannot sandbox here, or null when it can. */
function runnerUnavailable() {
  if (process.platform !== 'linux') return 'the local sandbox needs Linux (bubblewrap)';
  if (process.getuid?.() !== 0)
    return 'not running as root (the runner drops each call to an unprivileged uid with RLIMIT_NPROC; see docs/sandbox.md)';
  if (spawnSync('bwrap', ['--version'], { stdio: 'ignore' }).status !== 0)
    return 'bubblewrap (bwrap) is not installed (apt-get install bubblewrap)';
  return null;
}

/** The port wrangler dev will listen on (`--port N` or `--port=N`; wrangler's default 8787). */
function wranglerPort(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port' && args[i + 1]) return Number(args[i + 1]);
    if (args[i]?.startsWith('--port=')) return Number(args[i].slice('--port='.length));
  }
  return 8787;
}

/** The runner's port: the one RUNNER_URL in .dev.vars names, which is where the gateway sends calls. */
function runnerPort() {
  try {
    const port = Number(new URL(localVars().RUNNER_URL).port);
    return Number.isInteger(port) && port > 0 ? port : RUNNER_PORT;
  } catch {
    return RUNNER_PORT;
  }
}

/** Whether something already listens on host:port (we cannot bind it). */
function portTaken(host, port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
}

/** Refuses, with what to do, a setup where the gateway and the runner would fight over a port. */
async function refusePortCollision(args, port) {
  const gateway = wranglerPort(args);
  const fix = `choose another wrangler port (npm run dev -- --port <n>) or move the runner: set RUNNER_URL=http://${RUNNER_HOST}:<n> in ${devVarsPath}`;
  if (gateway === port) {
    console.error(`[dev] port ${port} is the local tool runner's (RUNNER_URL in .dev.vars); wrangler cannot use it too: ${fix}.`);
    process.exit(1);
  }
  if (await portTaken(RUNNER_HOST, port)) {
    console.error(
      `[dev] ${RUNNER_HOST}:${port}, the local tool runner's port (RUNNER_URL), is already in use (another npm run dev or runner?): stop that process, or ${fix}.`,
    );
    process.exit(1);
  }
}

/** Starts dist/runner.mjs (built first, so it matches the sources) or returns null with a warning. */
function startRunner(port) {
  const reason = runnerUnavailable();
  if (reason) {
    console.warn(
      `[dev] WARNING: not starting the local tool runner: ${reason}. The gateway still serves; tool invocations will fail until a runner is available.`,
    );
    return null;
  }
  const built = spawnSync(process.execPath, [join(root, 'scripts/build-runner.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    console.warn('[dev] WARNING: building the runner bundle failed; not starting the local tool runner. The gateway still serves.');
    return null;
  }
  // Both git-ignored. 0711: the sandbox uid must reach its workspace and egress socket
  // through these directories without being able to list them.
  const localDir = join(root, '.local-runner');
  const workDir = join(localDir, 'work');
  // The gateway gets the same value (--var), so both name the same directories.
  const workspaceRoot = localVars().RUNNER_WORKSPACE_ROOT;
  for (const dir of [localDir, workDir, workspaceRoot]) {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o711);
  }
  const env = {
    ...process.env,
    RUNNER_SECRET: readDevVars().values.RUNNER_SECRET,
    RUNNER_ISOLATION: 'bwrap',
    RUNNER_HOST,
    RUNNER_PORT: String(port),
    RUNNER_WORK_DIR: workDir,
    RUNNER_WORKSPACE_ROOT: workspaceRoot,
  };
  let delayMs = RESTART_FIRST_MS;
  const launch = () => {
    const startedAt = Date.now();
    current = spawn(process.execPath, [join(root, 'dist/runner.mjs')], { cwd: root, stdio: 'inherit', env });
    current.on('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt >= RESTART_RESET_AFTER_MS) delayMs = RESTART_FIRST_MS;
      console.warn(
        `[dev] WARNING: the local tool runner stopped (${signal ?? `exit ${code}`}); tool calls fail until it is back. Restarting it in ${delayMs / 1000} s.`,
      );
      setTimeout(() => {
        if (stopping) return;
        console.log('[dev] restarting the local tool runner');
        launch();
      }, delayMs).unref();
      delayMs = Math.min(delayMs * 2, RESTART_MAX_MS);
    });
  };
  launch();
  return {
    kill: (signal) => current?.kill(signal),
    get live() {
      return current && current.exitCode === null && current.signalCode === null;
    },
    once: (event, fn) => current?.once(event, fn),
  };
}

let stopping = false;
/** The runner process of the moment (replaced on each restart). */
let current = null;

/** `--persist-to <dir>` (or `=dir`) given to wrangler dev: the migrations must go to the same local state. */
function persistArgs(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--persist-to' && args[i + 1]) return ['--persist-to', args[i + 1]];
    if (args[i]?.startsWith('--persist-to=')) return [args[i]];
  }
  return [];
}

function applyMigrations(extra) {
  console.log('[dev] applying D1 migrations to the local database');
  const result = spawnSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', ...extra], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CI: 'true' }, // non-interactive: no confirmation prompt
  });
  if (result.status !== 0) {
    console.error('[dev] applying migrations failed; not starting the gateway');
    process.exit(result.status ?? 1);
  }
}

const args = devVarsOption.path ? [...devVarsOption.rest, '--env-file', devVarsPath] : devVarsOption.rest;
const containers = args.includes('--containers');
const remoteAi = args.includes('--remote-ai');
const wranglerArgs = args.filter((arg) => arg !== '--containers' && arg !== '--remote-ai');
if (!remoteAi && !wranglerArgs.includes('--local') && !wranglerArgs.includes('--remote')) wranglerArgs.push('--local');
if (!remoteAi)
  console.log(
    '[dev] Workers AI is off locally (workers-ai agents cannot answer); `npm run dev -- --remote-ai` after `wrangler login` turns it on.',
  );
ensureDevVars();
const port = runnerPort();
if (!containers) await refusePortCollision(wranglerArgs, port);
applyMigrations(persistArgs(wranglerArgs));
let runner = null;
if (containers) {
  // wrangler builds containers/runner/Dockerfile and runs ToolSandbox for real (docs/sandbox.md
  // "wrangler dev with containers"); the command line overrides the .dev.vars executor.
  console.log('[dev] --containers: ToolSandbox runs in a local container (needs Docker); no local runner.');
  wranglerArgs.push('--var', 'TOOL_EXECUTOR:container', '--enable-containers');
} else {
  for (const [name, value] of Object.entries(localVars())) wranglerArgs.push('--var', `${name}:${value}`);
  runner = startRunner(port);
}
const wrangler = spawn('wrangler', ['dev', ...wranglerArgs], { cwd: root, stdio: 'inherit', env: wranglerEnv(process.env) });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    wrangler.kill(signal);
    runner?.kill(signal);
  });
}
wrangler.on('exit', (code, signal) => {
  stopping = true;
  const exit = () => process.exit(code ?? (signal ? 1 : 0));
  if (!runner || !runner.live) return exit();
  // The runner stops with the gateway; give it a moment to close, then go.
  runner.once('exit', exit);
  runner.kill('SIGTERM');
  setTimeout(() => {
    runner.kill('SIGKILL');
    exit();
  }, 3_000).unref();
});
