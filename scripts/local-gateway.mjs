// A throw-away `wrangler dev` for node tests and benchmarks: the same local D1, Durable
// Objects and Worker that `npm run dev` starts, on a free 127.0.0.1 port, with a temporary
// --persist-to directory and temporary secrets (--env-file: the project's .dev.vars is
// neither read nor written), migrations applied, and without the local tool runner (its
// fixed port would collide with a developer's own `npm run dev`). Loopback only; telemetry,
// update checks and the cf.json download are off, and wrangler's local trace store is off as
// under `npm run dev` (scripts/wrangler-env.mjs). stop() kills the whole process group.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { wranglerEnv } from './wrangler-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
export const HOST = '127.0.0.1';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts wrangler dev. `config` = another wrangler.toml (the bare comparison Worker);
 * `vars` are extra --var values, `devVars` extra lines of the env file (JSON-safe); `maxSockets` bounds the keep-alive client. Resolves once
 * `readyPath` answers 200 (or `readyStatus`), within `startupTimeoutMs`.
 */
export async function startLocalGateway(options = {}) {
  const {
    config,
    vars = {},
    devVars = {},
    maxSockets = 16,
    readyPath = '/healthz',
    startupTimeoutMs = 180_000,
    requestTimeoutMs = 15_000,
    migrate = true,
  } = options;
  const work = mkdtempSync(join(tmpdir(), 'portcullis-local-'));
  const persistDir = join(work, 'state');
  const env = {
    ...wranglerEnv(process.env),
    CI: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    DO_NOT_TRACK: '1',
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_REGISTRY_PATH: join(work, 'registry'),
    WRANGLER_CI_DISABLE_CONFIG_WATCHING: 'true',
  };
  const setupToken = randomBytes(32).toString('base64url');
  const envFile = join(work, 'local.env');
  // devVars: extra values as `npm run dev` would read them from .dev.vars (single-quoted: JSON stays literal).
  const extra = Object.entries(devVars)
    .map(([name, value]) => `${name}='${value}'\n`)
    .join('');
  writeFileSync(envFile, `SETUP_TOKEN=${setupToken}\nVAULT_KEYS=local1:${randomBytes(32).toString('base64')}\n${extra}`, { mode: 0o600 });
  const configArgs = config ? ['--config', config] : [];
  if (migrate) {
    const migrated = spawnSync(
      process.execPath,
      [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistDir, ...configArgs],
      { cwd: root, env, encoding: 'utf8', timeout: 120_000 },
    );
    if (migrated.status !== 0) throw new Error(`applying migrations failed:\n${migrated.stdout}${migrated.stderr}`);
  }
  const port = await freePort();
  const inspectorPort = await freePort();
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      'dev',
      ...configArgs,
      '--local',
      '--ip',
      HOST,
      '--port',
      String(port),
      '--inspector-ip',
      HOST,
      '--inspector-port',
      String(inspectorPort),
      // 'log': the Worker's console.log lines (e.g. the limiter shards' memory lines) reach `lines`.
      '--persist-to',
      persistDir,
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
      '--log-level',
      'log',
      ...varArgs,
    ],
    { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines = [];
  let partial = '';
  const onData = (chunk) => {
    partial += String(chunk);
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 20_000) lines.shift(); // bounded: the tail is what matters
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const running = () => child.exitCode === null && child.signalCode === null;
  const agent = new Agent({ keepAlive: true, maxSockets });
  const send = (method, path, headers = {}, body = undefined) =>
    new Promise((resolve, reject) => {
      const allHeaders =
        body === undefined ? headers : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers };
      const req = request({ host: HOST, port, method, path, headers: allHeaders, agent, timeout: requestTimeoutMs }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${requestTimeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    agent.destroy();
    const exited = new Promise((resolve) => (running() ? child.once('exit', resolve) : resolve(undefined)));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await Promise.race([exited, sleep(5_000)]);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    rmSync(work, { recursive: true, force: true });
  };
  const startedAt = performance.now();
  try {
    for (;;) {
      if (!running()) throw new Error(`wrangler dev exited before it was ready:\n${lines.slice(-40).join('\n')}`);
      if (performance.now() - startedAt > startupTimeoutMs)
        throw new Error(`wrangler dev did not answer ${readyPath} in time:\n${lines.slice(-40).join('\n')}`);
      if (
        await send('GET', readyPath).then(
          (res) => res.status === 200,
          () => false,
        )
      )
        break;
      await sleep(250);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, setupToken, send, stop, lines, pid: child.pid };
}
