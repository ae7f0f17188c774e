#!/usr/bin/env node
// `portcullis` command: loads the bundle that `npm ci` / `npm run build` writes to dist/
// (the `prepare` script), so it runs on plain Node 20+ with no TypeScript loader.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/portcullis.mjs', import.meta.url);
if (!existsSync(bundle)) {
  console.error('portcullis: dist/portcullis.mjs is missing; run `npm run build` in the Portcullis checkout.');
  process.exit(70);
}
const { run } = await import(bundle.href);
process.exitCode = await run(process.argv.slice(2));
