/**
 * Runs the built runner image as production runs it and drives its signed API.
 *
 * Production (Cloudflare, ToolSandbox): the image's own user (root, for the runner; tools run as
 * 10001), no network of its own, the runner's per-instance secret given at start, requests
 * arriving from outside on port 8080. Here: `docker run --network none --read-only --cap-drop
 * ALL` (plus the three capabilities the runner needs, see the Dockerfile) `--security-opt
 * no-new-privileges`, tmpfs for /tmp and /workspace, RUNNER_SECRET in the environment. A
 * container with `--network none` publishes no port, so the test reaches port 8080 the way the
 * platform does, from outside the container: a forwarder started on the host inside only the
 * container's network namespace (nsenter --net), listening on a host unix socket.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importRunnerKey, signRunnerRequest } from '../../../../src/protocol/index.ts';
import type { RunnerReply } from '../helpers.ts';

const run = promisify(execFile);

export const IMAGE = process.env.PORTCULLIS_RUNNER_IMAGE ?? 'portcullis-runner';
/** The tool uid the image gives its tools (Dockerfile RUNNER_SANDBOX_UID). */
export const TOOL_UID = 10001;

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * Fails (never skips) with what is missing: these tests are the only check that the image
 * production runs does what docs/sandbox.md says. `npm run test:image` starts an engine and
 * builds the image when it can (scripts/image/test.sh).
 */
export async function requireImage(): Promise<void> {
  try {
    await docker('info', '--format', '{{.ServerVersion}}');
  } catch {
    throw new Error(
      `no Docker engine reachable (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'}): run the image tests with \`npm run test:image\`, which starts one where dockerd is installed, or start Docker yourself`,
    );
  }
  try {
    await docker('image', 'inspect', '--format', '{{.Id}}', IMAGE);
  } catch {
    throw new Error(`image ${IMAGE} not built: \`npm run test:image\` builds it, or \`npm run image\``);
  }
}

export interface RunningImage {
  id: string;
  secret: string;
  /** Host pid of the container's first process (the runner). */
  pid: number;
  post(body: unknown, options?: { secret?: string }): Promise<{ status: number; json: RunnerReply }>;
  get(path: string): Promise<{ status: number; text: string }>;
  /** Runs a command in the container as root (inspection only; never what a tool can do). */
  exec(...argv: string[]): Promise<string>;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

function viaSocket(
  socketPath: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const FORWARDER = `
const net = require('node:net');
net.createServer((c) => { const u = net.connect(8080, '127.0.0.1'); c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
  .listen(process.argv[1], () => console.log('ready'));
`;

async function until(predicate: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await predicate().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts the image as production does; `mounts` are extra read-only or socket binds (`-v`). */
export async function startImage(
  options: { mounts?: string[]; env?: Record<string, string>; health?: boolean } = {},
): Promise<RunningImage> {
  const secret = randomBytes(32).toString('hex');
  const name = `portcullis-image-test-${randomBytes(4).toString('hex')}`;
  const args = [
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    'none',
    '--read-only',
    '--cap-drop',
    'ALL',
    '--cap-add',
    'SETUID',
    '--cap-add',
    'SETGID',
    '--cap-add',
    'KILL',
    '--security-opt',
    'no-new-privileges',
    '--tmpfs',
    '/tmp:rw,nosuid,nodev,mode=1777',
    '--tmpfs',
    `/workspace:rw,nosuid,nodev,mode=0755,uid=${TOOL_UID},gid=${TOOL_UID}`,
    '--memory',
    '512m',
    '--pids-limit',
    '512',
    '--env',
    `RUNNER_SECRET=${secret}`,
    ...Object.entries(options.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ...(options.mounts ?? []).flatMap((m) => ['--volume', m]),
    // The image's HEALTHCHECK command as built; only its first run is brought forward.
    ...(options.health ? ['--health-interval', '1s', '--health-start-period', '0s'] : []),
    IMAGE,
  ];
  const id = await docker(...args);
  const pid = Number(await docker('inspect', '--format', '{{.State.Pid}}', id));
  const dir = mkdtempSync('/tmp/portcullis-image-test-');
  const socket = join(dir, 'runner.sock');
  const forwarder: ChildProcess = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, '-e', FORWARDER, socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await until(async () => existsSync(socket), 30_000, 'the forwarder');
  const get = (path: string) => viaSocket(socket, 'GET', path, {});
  await until(async () => (await get('/healthz')).status === 200, 60_000, 'the runner to answer /healthz');
  const keys = new Map<string, Awaited<ReturnType<typeof importRunnerKey>>>();
  const keyFor = async (s: string) => {
    let key = keys.get(s);
    if (!key) keys.set(s, (key = await importRunnerKey(s)));
    return key;
  };
  return {
    id,
    secret,
    pid,
    get,
    async post(body, opts = {}) {
      const text = JSON.stringify(body);
      const headers = {
        'content-type': 'application/json',
        ...(await signRunnerRequest(await keyFor(opts.secret ?? secret), {
          method: 'POST',
          path: '/invocations',
          body: text,
          nowS: Math.floor(Date.now() / 1000),
        })),
      };
      const res = await viaSocket(socket, 'POST', '/invocations', headers, text);
      return { status: res.status, json: JSON.parse(res.text) as RunnerReply };
    },
    exec: (...argv) => docker('exec', id, ...argv),
    logs: async () => {
      const { stdout, stderr } = await run('docker', ['logs', id], { maxBuffer: 16 * 1024 * 1024 });
      return stdout + stderr;
    },
    async stop() {
      forwarder.kill('SIGKILL');
      await docker('rm', '--force', '--volumes', id).catch(() => '');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const call = (argv: string[], extra: Record<string, unknown> = {}) => ({
  tool: 't',
  argv,
  env: {},
  timeoutMs: 20_000,
  outputLimitBytes: 65_536,
  ...extra,
});
