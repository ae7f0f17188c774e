/**
 * Golden files: ten real MCP servers and the five capgate reference manifests (our own
 * equivalents, in capgate's grammar) × every target (both egress backends), plus one
 * per-tool compile each. `npm run test:update-goldens` rewrites them after an intended
 * change; reviewers read the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CompileOptions, compileManifest } from '../../src/policy/index.ts';
import { CAPGATE_SERVERS, GOLDEN_VARIANTS } from '../golden-variants.ts';

const GOLDENS = fileURLToPath(new URL('../fixtures/goldens/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDENS === '1';
export const SERVERS = ['filesystem', 'fetch', 'git', 'memory', 'time', 'github', 'postgres', 'sqlite', 'brave-search', 'puppeteer'];
const ALL = [...SERVERS, ...CAPGATE_SERVERS];

function manifestOf(server: string): { tools: { name: string }[] } {
  return JSON.parse(readFileSync(join(GOLDENS, server, 'manifest.json'), 'utf8'));
}

function checkGolden(file: string, options: CompileOptions, manifest: unknown): void {
  const result = compileManifest(manifest, options);
  if (!result.ok) throw new Error(`${file}: ${result.error.code} at ${result.error.path}`);
  const text = `${JSON.stringify(result.artifact, null, 2)}\n`;
  if (UPDATE) writeFileSync(file, text);
  expect(existsSync(file), `${file} missing: run npm run test:update-goldens`).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('golden files', () => {
  it('covers exactly the ten servers and the five capgate reference manifests', () => {
    expect(readdirSync(GOLDENS).sort()).toEqual([...ALL].sort());
  });

  for (const server of ALL) {
    describe(server, () => {
      for (const [variant, options] of GOLDEN_VARIANTS) {
        it(`${variant} matches ${server}/${variant}.json`, () =>
          checkGolden(join(GOLDENS, server, `${variant}.json`), options, manifestOf(server)));
      }
      it('per-tool bwrap compile of the first tool matches', () => {
        const manifest = manifestOf(server);
        const tool = manifest.tools[0]?.name ?? '';
        checkGolden(join(GOLDENS, server, `tool-${tool}.bwrap.json`), { target: 'bwrap', tool }, manifest);
      });
    });
  }
});
