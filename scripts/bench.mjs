#!/usr/bin/env node
// `npm run bench`: runs every benchmark and writes bench-results/latest.json.
// Workers benchmarks run inside workerd (vitest + @cloudflare/vitest-plugin) and print one
// `BENCH {json}` line per group; Node benchmarks (bench/node/*.mjs) print the same lines.
// Only ratios against a baseline measured in the same run are meaningful.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  process.stderr.write(result.stderr ?? '');
  if (result.status !== 0) {
    process.stdout.write(result.stdout ?? '');
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
  }
  return (result.stdout ?? '')
    .split('\n')
    .filter((line) => line.includes('BENCH {'))
    .map((line) => JSON.parse(line.slice(line.indexOf('BENCH {') + 6)));
}

const groups = [...run('vitest', ['run', '--config', 'vitest.bench.config.ts', '--silent=false'])];
const nodeDir = join(root, 'bench', 'node');
if (existsSync(nodeDir)) {
  for (const file of readdirSync(nodeDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort())
    groups.push(...run(process.execPath, [join(nodeDir, file)]));
}

const results = {
  date: new Date().toISOString(),
  machine: {
    platform: platform(),
    arch: arch(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  groups,
};
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
for (const group of groups) {
  console.log(`\n${group.group} (baseline: ${group.baseline})`);
  for (const r of group.results)
    console.log(
      `  ${r.name.padEnd(56)} ${String(r.opsPerSec).padStart(9)} ops/s  p50 ${r.p50Us} µs  p99 ${r.p99Us} µs  ×${r.ratioToBaseline}` +
        (r.cpuMsPerRequest ? `  cpu ${r.cpuMsPerRequest} ms/req (×${r.cpuRatioToBaseline})` : ''),
    );
}
console.log('\nwrote bench-results/latest.json');
