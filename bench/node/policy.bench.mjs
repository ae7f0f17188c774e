#!/usr/bin/env node
// Policy compiler throughput: manifests compiled per second for each target, against
// JSON.parse of the same manifest text (baseline) and manifest validation alone, in one run.
// Uses the dist/policy.mjs bundle (built by `npm run build` / `prepare`; built here if missing).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bundle = join(root, 'dist', 'policy.mjs');
if (!existsSync(bundle)) spawnSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { stdio: 'inherit' });
const { compileManifest, parseManifest, decideEgress } = await import(bundle);

const goldens = join(root, 'test', 'fixtures', 'goldens');
const texts = readdirSync(goldens)
  .sort()
  .map((server) => readFileSync(join(goldens, server, 'manifest.json'), 'utf8'));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Runs fn in batches for about durationMs after a warm-up; p50/p99 over per-op batch means. */
function measure(name, fn, durationMs = 1500) {
  for (let i = 0; i < 200; i++) fn(i);
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn(i);
    if (performance.now() - t0 >= 2 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const perOp = [];
  let iterations = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn(iterations + i);
    perOp.push((performance.now() - t0) / batch);
    iterations += batch;
  }
  const elapsed = performance.now() - start;
  perOp.sort((a, b) => a - b);
  return {
    name,
    iterations,
    opsPerSec: Math.round((iterations / elapsed) * 1000),
    p50Us: Math.round(percentile(perOp, 0.5) * 1000),
    p99Us: Math.round(percentile(perOp, 0.99) * 1000),
  };
}

let sink = 0;
const baseline = measure('JSON.parse manifest text (baseline)', (i) => {
  sink += JSON.parse(texts[i % texts.length]).tools.length;
});
const results = [
  measure('JSON.parse + parseManifest (validation only)', (i) => {
    sink += parseManifest(JSON.parse(texts[i % texts.length])).ok ? 1 : 0;
  }),
];
for (const [label, options] of [
  ['bwrap', { target: 'bwrap' }],
  ['docker', { target: 'docker' }],
  ['egress squid', { target: 'egress', egressTarget: 'squid' }],
  ['egress nftables', { target: 'egress', egressTarget: 'nftables' }],
  ['cloudflare', { target: 'cloudflare' }],
  ['k8s', { target: 'k8s' }],
]) {
  results.push(
    measure(`JSON.parse + compile → ${label}`, (i) => {
      const result = compileManifest(JSON.parse(texts[i % texts.length]), options);
      sink += result.ok ? 1 : 0;
    }),
  );
}
const policy = {
  allow: [
    { host: 'api.github.com', port: 443 },
    { host: '*', port: 80 },
  ],
  blockPrivate: true,
};
results.push(
  measure('decideEgress (one request)', (i) => {
    sink += decideEgress(policy, { host: i % 2 ? 'api.github.com' : '0x7f000001', port: 443, resolvedAddresses: ['140.82.112.6'] }).allow
      ? 1
      : 0;
  }),
);
if (sink === 0) throw new Error('benchmark did no work');
const rows = [baseline, ...results].map((m) => ({
  ...m,
  ratioToBaseline: Number((m.opsPerSec / Math.max(1, baseline.opsPerSec)).toFixed(3)),
}));
console.log(
  `BENCH ${JSON.stringify({ group: 'policy compiler (10 golden manifests, rotating)', baseline: baseline.name, results: rows, node: process.version })}`,
);
