#!/usr/bin/env node
// Bundles the CLI (dist/portcullis.mjs) and the policy library (dist/policy.mjs, used by the
// Node benchmarks) for Node 20+. Runs from `prepare`, so an install leaves a working `portcullis`.
import { bundleForNode } from './node-bundle.mjs';

await bundleForNode('build-cli', {
  entryPoints: { portcullis: 'cli/portcullis.ts', policy: 'src/policy/index.ts' },
  target: 'node20',
});
