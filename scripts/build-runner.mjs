#!/usr/bin/env node
// Bundles the tool runner (containers/runner/src/main.ts) into one file, dist/runner.mjs (and
// the same code as a library, dist/runner-lib.mjs, for the benchmarks), and
// copies its in-sandbox launcher next to it (dist/launcher.mjs; sandbox.ts finds it relative to
// the bundle). Why a bundle: Node's type stripping resolves imports literally and src/policy
// (shared with the Worker) imports without extensions, so the sources cannot run directly.
// Dependencies (zod, the MCP SDK) are bundled in, so the image needs no node_modules.
// `--if-available` (used by `prepare`): without devDependencies there is no esbuild; skip with
// a warning rather than fail the install.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  if (process.argv.includes('--if-available')) {
    console.warn('build-runner: esbuild is not installed (devDependencies omitted); skipping the runner bundle.');
    process.exit(0);
  }
  throw new Error('build-runner: esbuild is not installed; run npm install');
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist');
await build({
  absWorkingDir: root,
  entryPoints: { runner: 'containers/runner/src/main.ts', 'runner-lib': 'containers/runner/src/lib.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Bundled CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: { js: "import { createRequire as __runnerCreateRequire } from 'node:module'; const require = __runnerCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
mkdirSync(outdir, { recursive: true });
copyFileSync(join(root, 'containers/runner/src/launcher.mjs'), join(outdir, 'launcher.mjs'));
