#!/usr/bin/env node
// Bundles the CLI (dist/portcullis.mjs) and the policy library (dist/policy.mjs, used by the
// Node benchmarks) for Node 20+. Runs from `prepare`, so `npm ci` leaves a working `portcullis`.
// esbuild comes with wrangler and the vitest plugin; no extra dependency.
// `--if-available` (used by `prepare`): a production install without devDependencies has no
// esbuild; skip with a warning rather than fail the whole install.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  if (process.argv.includes('--if-available')) {
    console.warn('build-cli: esbuild is not installed (devDependencies omitted); skipping the portcullis CLI bundle.');
    process.exit(0);
  }
  throw new Error('build-cli: esbuild is not installed; run npm ci');
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  entryPoints: { portcullis: 'cli/portcullis.ts', policy: 'src/policy/index.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
});
