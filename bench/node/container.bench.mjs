#!/usr/bin/env node
// Per-call overhead of the container path (the runner image, run as the image tests run it:
// no network, read-only root, capabilities dropped) against the bubblewrap path and a bare
// spawn, all running `true`, measured in the same run. Container rows: a signed POST
// /invocations to the runner inside the running container (what ToolSandbox sends; reached
// from the host through a forwarder in the container's network namespace), and `docker exec`
// of the same command. Needs a Docker engine (DOCKER_HOST) with the image built
// (`npm run image`, tag PORTCULLIS_RUNNER_IMAGE, default portcullis-runner), bwrap and root.
// Without an engine or the image it says so on stderr and reports nothing (no made-up rows).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileManifest } from '../../dist/policy.mjs';
import { compiledSandbox, importRunnerKey, runInvocation, runProcess, signRunnerRequest } from '../../dist/runner-lib.mjs';

const IMAGE = process.env.PORTCULLIS_RUNNER_IMAGE ?? 'portcullis-runner';
const docker = (...args) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
try {
  docker('image', 'inspect', '--format', '{{.Id}}', IMAGE);
} catch {
  console.error(`container.bench: no Docker engine reachable or no ${IMAGE} image (npm run image); container rows not measured`);
  process.exit(0);
}

const root = mkdtempSync('/tmp/portcullis-bench-container-');
chmodSync(root, 0o711);
const workDir = join(root, 'work');
const workspaceRoot = join(root, 'workspaces');
mkdirSync(workDir, { mode: 0o711 });
mkdirSync(workspaceRoot, { mode: 0o711 });
const config = {
  isolation: 'bwrap',
  workDir,
  operatorAllow: [],
  audit: () => {},
  sandbox: { uid: 65534, gid: 65534, maxProcesses: 64, nodeInSandbox: '/usr/bin/node', workspaceRoot },
};
const manifest = {
  name: 'bench',
  version: '1.0.0',
  tools: [{ name: 'probe', capabilities: ['exec:spawn:true', 'fs:read,write:/workspace/**'], run: { argv: ['true'] } }],
};
const compiled = compileManifest(manifest, { target: 'bwrap', tool: 'probe' });
if (!compiled.ok) throw new Error(compiled.error.code);
const sandbox = compiledSandbox(compiled.artifact, ['true'], {
  workspace: join(workspaceRoot, 'agent', 'workspace'),
  privateRoot: join(workspaceRoot, 'agent', 'paths'),
});
if (!sandbox.ok) throw new Error(sandbox.reason);
const base = { tool: 'bench', env: {}, stdin: '', timeoutMs: 10_000, outputLimitBytes: 65_536 };

const secret = randomBytes(32).toString('hex');
const id = docker(
  'run',
  '--detach',
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
  '/tmp:rw,mode=1777',
  '--tmpfs',
  '/workspace:rw,mode=0755,uid=10001,gid=10001',
  '--env',
  `RUNNER_SECRET=${secret}`,
  IMAGE,
);
const socket = join(root, 'runner.sock');
const pid = docker('inspect', '--format', '{{.State.Pid}}', id);
const forwarder = spawn(
  'nsenter',
  [
    `--net=/proc/${pid}/ns/net`,
    '--',
    process.execPath,
    '-e',
    "const net=require('node:net');net.createServer((c)=>{const u=net.connect(8080,'127.0.0.1');c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(process.argv[1])",
    socket,
  ],
  { stdio: 'ignore' },
);
const key = await importRunnerKey(secret);

function post(body) {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: socket, method: body ? 'POST' : 'GET', path: body ? '/invocations' : '/healthz', headers: body?.headers ?? {} },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('error', reject);
    req.end(body?.text);
  });
}
let calls = 0;
async function containerCall() {
  // A distinct body per call: the runner refuses a signature it has seen (replay), and two
  // identical bodies signed in the same second have the same signature.
  const text = JSON.stringify({ ...base, argv: ['true'], env: { CALL: String(++calls) } });
  const headers = {
    'content-type': 'application/json',
    ...(await signRunnerRequest(key, { method: 'POST', path: '/invocations', body: text, nowS: Math.floor(Date.now() / 1000) })),
  };
  const res = await post({ text, headers });
  return res.status === 200 ? JSON.parse(res.text) : { exitCode: -1, stderr: res.text };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}
async function measure(name, fn, { iterations = 30, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    const result = await fn();
    if (result.exitCode !== 0) throw new Error(`${name}: exit ${result.exitCode} ${result.stderr}`);
    samples.push(performance.now() - t0);
  }
  const elapsed = performance.now() - start;
  samples.sort((a, b) => a - b);
  return {
    name,
    iterations,
    opsPerSec: Math.round((iterations / elapsed) * 1000 * 10) / 10,
    p50Us: Math.round(percentile(samples, 0.5) * 1000),
    p99Us: Math.round(percentile(samples, 0.99) * 1000),
  };
}

try {
  const deadline = Date.now() + 60_000;
  while (!existsSync(socket) || (await post().catch(() => ({ status: 0 }))).status !== 200) {
    if (Date.now() > deadline) throw new Error('the runner in the container did not answer /healthz');
    await new Promise((r) => setTimeout(r, 200));
  }
  const direct = await measure('direct spawn: true', () => runProcess({ ...base, argv: ['true'], env: { PATH: '/usr/bin:/bin' } }));
  const bwrap = await measure('bwrap (uid drop + RLIMIT_NPROC): true', async () => {
    const result = await runInvocation({ ...base, argv: ['true'], sandbox: { bwrapArgv: sandbox.value.sandbox.bwrapArgv } }, config);
    if ('refused' in result) throw new Error(result.refused);
    return result;
  });
  const viaApi = await measure('container: signed POST /invocations to the image: true', containerCall);
  const exec = await measure(
    'container: docker exec of true',
    async () => {
      docker('exec', '--user', '10001:10001', id, 'true');
      return { exitCode: 0 };
    },
    { iterations: 10, warmup: 1 },
  );
  const rows = [direct, bwrap, viaApi, exec].map((m) => ({
    ...m,
    ratioToBaseline: Number((m.opsPerSec / Math.max(0.001, direct.opsPerSec)).toFixed(3)),
  }));
  const p50OverheadX = Object.fromEntries(rows.slice(1).map((m) => [m.name, Number((m.p50Us / Math.max(1, direct.p50Us)).toFixed(2))]));
  console.log(
    `BENCH ${JSON.stringify({ group: 'runner: per-call overhead, container path vs bwrap vs bare spawn (no-op command)', baseline: direct.name, results: rows, p50OverheadX })}`,
  );
} finally {
  forwarder.kill('SIGKILL');
  try {
    docker('rm', '--force', id);
  } catch {
    /* already gone */
  }
  rmSync(root, { recursive: true, force: true });
}
