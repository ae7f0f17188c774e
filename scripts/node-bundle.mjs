// Shared by build-cli.mjs and build-runner.mjs: bundles TypeScript entry points into ESM for
// Node with esbuild (a direct devDependency, pinned; wrangler and the vitest plugin use it too).
// `--if-available` (used by `prepare`): an install without devDependencies has no esbuild;
// skip with a warning rather than fail the whole install.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function bundleForNode(label, options) {
  let build;
  try {
    ({ build } = await import('esbuild'));
  } catch {
    if (process.argv.includes('--if-available')) {
      console.warn(`${label}: esbuild is not installed (devDependencies omitted); skipping.`);
      return false;
    }
    throw new Error(`${label}: esbuild is not installed; run npm install`);
  }
  await build({
    absWorkingDir: root,
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    legalComments: 'none',
    logLevel: 'warning',
    ...options,
  });
  return true;
}
