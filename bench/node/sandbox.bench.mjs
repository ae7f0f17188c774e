#!/usr/bin/env node
// Per-invocation overhead of the local sandbox (bubblewrap, unprivileged uid + RLIMIT_NPROC,
// and the egress proxy with its in-sandbox launcher) against spawning the same command
// directly, measured in the same run. Prints `BENCH {json}` lines (see scripts/bench.mjs).
// Needs bwrap and root (for the uid drop), as the runner does. The sandbox is the one the policy
// compiler emits for a real manifest tool (bwrap target + compiledSandbox), from the bundles
// `npm run build` writes (the sources cannot run directly: src/policy imports without extensions).
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileManifest } from '../../dist/policy.mjs';
import { compiledSandbox, runInvocation, runProcess } from '../../dist/runner-lib.mjs';

const root = mkdtempSync('/tmp/portcullis-bench-');
chmodSync(root, 0o711);
const workDir = join(root, 'work');
const workspaceRoot = join(root, 'workspaces');
mkdirSync(workDir, { mode: 0o711 });
mkdirSync(workspaceRoot, { mode: 0o711 });
const workspace = join(workspaceRoot, 'agent');

const server = createServer((_req, res) => res.end('ok'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const config = {
  isolation: 'bwrap',
  workDir,
  operatorAllow: [{ host: 'bench.test', port }],
  resolve: async (host) => (host === 'bench.test' ? ['127.0.0.1'] : []),
  audit: () => {},
  // maxProcesses well above the runner's: each call can leave its sandbox's inner bwrap (pid 1 of
  // the call's pid namespace) to the machine's init, and an init that does not reap (some VMs')
  // keeps it as a zombie of this uid, which RLIMIT_NPROC counts; the limit's value costs nothing.
  sandbox: { uid: 65534, gid: 65534, maxProcesses: 4096, nodeInSandbox: '/usr/bin/node', workspaceRoot },
};
const manifest = {
  name: 'bench',
  version: '1.0.0',
  tools: [{ name: 'probe', capabilities: ['exec:spawn:true', 'exec:spawn:curl', 'fs:read,write:/workspace/**'], run: { argv: ['true'] } }],
};
const compiled = compileManifest(manifest, { target: 'bwrap', tool: 'probe' });
if (!compiled.ok) throw new Error(compiled.error.code);
const sandbox = compiledSandbox(compiled.artifact, ['true'], { workspace, privateRoot: join(workspaceRoot, 'agent-paths') });
if (!sandbox.ok) throw new Error(sandbox.reason);
const prefix = sandbox.value.sandbox.bwrapArgv;
const base = { tool: 'bench', env: {}, stdin: '', timeoutMs: 10_000, outputLimitBytes: 65_536 };

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

function report(group, baseline, others) {
  const rows = [baseline, ...others].map((m) => ({
    ...m,
    ratioToBaseline: Number((m.opsPerSec / Math.max(0.001, baseline.opsPerSec)).toFixed(3)),
  }));
  const p50Overhead = Object.fromEntries(others.map((m) => [m.name, Number((m.p50Us / Math.max(1, baseline.p50Us)).toFixed(2))]));
  console.log(`BENCH ${JSON.stringify({ group, baseline: baseline.name, results: rows, p50OverheadX: p50Overhead })}`);
}

const run = (argv) => () => runProcess({ ...base, argv, env: { PATH: '/usr/bin:/bin' } });
// `egress`: the tool's own allow list (null: no proxy). An operator allowance opens a private
// destination only for a tool that declares it (decideEgress rule 2), so the curl rows name it.
const sandboxed = (argv, egress) => async () => {
  const result = await runInvocation(
    { ...base, argv, sandbox: { bwrapArgv: prefix }, ...(egress ? { egress: { allow: egress } } : {}) },
    config,
  );
  if ('refused' in result) throw new Error(result.refused);
  return result;
};

try {
  const direct = await measure('direct spawn: true', run(['true']));
  const bwrapOnly = await measure('bwrap (uid drop + RLIMIT_NPROC): true', sandboxed(['true'], null));
  const withProxy = await measure('bwrap + egress proxy + launcher: true', sandboxed(['true'], []));
  report('runner: per-invocation sandbox overhead (no-op command)', direct, [bwrapOnly, withProxy]);

  const url = `http://bench.test:${port}/`;
  const curlDirect = await measure(
    'direct spawn: curl local server',
    run(['curl', '-sS', '--resolve', `bench.test:${port}:127.0.0.1`, url]),
  );
  const curlSandboxed = await measure(
    'bwrap + proxy: curl local server via proxy',
    sandboxed(['curl', '-sS', url], [{ host: 'bench.test', port }]),
  );
  report('runner: one HTTP request, direct vs through the sandbox egress path', curlDirect, [curlSandboxed]);
} finally {
  server.close();
  rmSync(root, { recursive: true, force: true });
}
