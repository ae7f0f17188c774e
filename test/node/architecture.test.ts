/**
 * The folder rules of docs/architecture.md hold for the real tree, and the checker that says
 * so does fail: each made-up tree below breaks one rule and must be reported.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArchitecture, type SourceFile } from './architecture-rules.ts';

const root = join(import.meta.dirname, '..', '..');

function sourcesUnder(dir: string, out: SourceFile[] = []): SourceFile[] {
  for (const name of readdirSync(join(root, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(root, path)).isDirectory()) sourcesUnder(path, out);
    else if (/\.(ts|tsx|mts|mjs)$/.test(name))
      out.push({ path: relative(root, join(root, path)), text: readFileSync(join(root, path), 'utf8') });
  }
  return out;
}

describe('the import architecture (docs/architecture.md)', () => {
  it('the Worker, the shared pure folders, the runner and the CLI import only what the table allows, with no cycle between capability folders', () => {
    const files = [...sourcesUnder('src'), ...sourcesUnder('containers/runner/src'), ...sourcesUnder('cli')];
    expect(files.length).toBeGreaterThan(100);
    expect(checkArchitecture(files)).toEqual([]);
  });

  const env = { path: 'src/env.ts', text: 'export type AppEnv = {};' };
  const index = (folder: string, text = '') => ({ path: `${folder}/index.ts`, text });
  it.each<[string, SourceFile[], number | 'cycle']>([
    ['src/lib importing a capability', [index('src/lib', "import { x } from '../auth';"), index('src/auth')], 5],
    ['src/policy importing src/db', [index('src/policy', "import { y } from '../db';"), index('src/db')], 5],
    [
      'src/protocol importing the runner',
      [
        index('src/protocol', "import { z } from '../../containers/runner/src/server';"),
        { path: 'containers/runner/src/server.ts', text: '' },
      ],
      3,
    ],
    ['src/protocol importing a Node built-in', [index('src/protocol', "import { createHmac } from 'node:crypto';")], 2],
    ['src/lib importing hono', [index('src/lib', "import { Hono } from 'hono';")], 2],
    ['src/db importing src/http', [index('src/db', "import { ApiError } from '../http';"), index('src/http')], 5],
    [
      'the runner importing a capability of the Worker',
      [{ path: 'containers/runner/src/proxy.ts', text: "import { a } from '../../../src/vault/index.ts';" }, index('src/vault')],
      5,
    ],
    ['the CLI importing src/db', [{ path: 'cli/x.ts', text: "import { d } from '../src/db';" }, index('src/db')], 5],
    [
      'a capability reaching into another one',
      [index('src/tools', "import { b } from '../vault/keyring';"), { path: 'src/vault/keyring.ts', text: '' }, index('src/vault')],
      3,
    ],
    [
      'a capability importing the app (a value from the root)',
      [index('src/tools', "import { createApp } from '../app';"), { path: 'src/app.ts', text: '' }],
      5,
    ],
    ['a capability importing a value from env.ts', [index('src/tools', "import { parse } from '../env';"), env], 5],
    [
      'Worker code importing a test helper',
      [index('src/tools', "import { h } from '../../test/workers/helpers';"), { path: 'test/workers/helpers.ts', text: '' }],
      5,
    ],
    [
      'two capabilities importing each other (type-only counts)',
      [index('src/audit', "import type { A } from '../auth';"), index('src/auth', "import { r } from '../audit';")],
      'cycle',
    ],
    [
      'the CLI reaching into a capability beyond its settings parsers',
      [{ path: 'cli/x.ts', text: "import { s } from '../src/vault/store';" }, { path: 'src/vault/store.ts', text: '' }, index('src/vault')],
      3,
    ],
    ['a settings parser importing a platform module', [{ path: 'src/vault/keyring.ts', text: "import { Hono } from 'hono';" }], 2],
    [
      'a settings parser importing impure code of its folder',
      [
        { path: 'src/ratelimit/policies.ts', text: "import { m } from './middleware';" },
        { path: 'src/ratelimit/middleware.ts', text: '' },
      ],
      2,
    ],
    [
      'a cycle through three capabilities',
      [index('src/a', "import '../b';"), index('src/b', "export * from '../c';"), index('src/c', "const m = import('../a');")],
      'cycle',
    ],
  ])('reports %s', (_name, files, rule) => {
    expect(checkArchitecture(files).map((v) => v.rule)).toContain(rule);
  });

  it('allows what the table allows: a capability using another through index.ts and AppEnv as a type', () => {
    const files = [
      index('src/tools', "import type { AppEnv } from '../env';\nimport { v } from '../vault';\nimport { q } from '../db';"),
      index('src/vault'),
      index('src/db'),
      env,
    ];
    expect(checkArchitecture(files)).toEqual([]);
  });

  it("allows the CLI to read settings with the gateway's own parsers (doctor and the gateway agree)", () => {
    const files = [
      { path: 'cli/doctor/secrets.ts', text: "import { parseKeyring } from '../../src/vault/keyring.ts';" },
      { path: 'src/vault/keyring.ts', text: "import { ok } from './problems';\nimport { utf8 } from '../lib';" },
      { path: 'src/vault/problems.ts', text: '' },
      index('src/lib'),
    ];
    expect(checkArchitecture(files)).toEqual([]);
  });
});
