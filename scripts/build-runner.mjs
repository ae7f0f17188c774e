#!/usr/bin/env node
// Bundles the tool runner (containers/runner/src/main.ts) into one file, dist/runner.mjs (and
// the same code as a library, dist/runner-lib.mjs, for the benchmarks), and copies its
// in-sandbox launcher next to it (dist/launcher.mjs; sandbox.ts finds it relative to the
// bundle). Why a bundle: Node's type stripping resolves imports literally and src/policy
// (shared with the Worker) imports without extensions, so the sources cannot run directly.
// Dependencies (zod, the MCP SDK) are bundled in, so the image needs no node_modules.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleForNode, root } from './node-bundle.mjs';

const built = await bundleForNode('build-runner', {
  entryPoints: { runner: 'containers/runner/src/main.ts', 'runner-lib': 'containers/runner/src/lib.ts' },
  target: 'node22',
  // Bundled CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: {
    js: "import { createRequire as __runnerCreateRequire } from 'node:module'; const require = __runnerCreateRequire(import.meta.url);",
  },
});
if (built) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  copyFileSync(join(root, 'containers/runner/src/launcher.mjs'), join(root, 'dist', 'launcher.mjs'));
}
