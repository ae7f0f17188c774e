import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile';
import { parseManifest } from './manifest';

const tool = (over: Record<string, unknown> = {}) => ({
  name: 'cat',
  capabilities: ['exec:spawn:cat', 'fs:read:/workspace/**'],
  run: { argv: ['cat', '{path}'] },
  ...over,
});
const manifest = (tools: unknown[] = [tool()]) => ({ name: 'demo', version: '1.0.0', tools });

describe('manifest validation', () => {
  it('accepts a capgate-style manifest with argv and mcp runs', () => {
    const ok = parseManifest(
      manifest([
        tool(),
        { name: 'srv', capabilities: ['exec:spawn:node'], run: { mcp: { command: ['node', '/opt/s.js'], tool: 'read_file' } } },
      ]),
    );
    expect(ok.ok).toBe(true);
  });

  it.each([
    ['not an object', 'nope', '(root)'],
    ['missing tools', { name: 'x', version: '1' }, 'tools'],
    ['empty tools', { name: 'x', version: '1', tools: [] }, 'tools'],
    ['unknown top-level key', { ...manifest(), extra: 1 }, 'extra'],
    ['capability not a string', manifest([tool({ capabilities: [42] })]), 'tools.0.capabilities.0'],
    ['tool name with a slash', manifest([tool({ name: '../x' })]), 'tools.0.name'],
    ['run with both argv and mcp', manifest([tool({ run: { argv: ['cat'], mcp: { command: ['cat'], tool: 'x' } } })]), 'tools.0.run'],
    ['empty argv', manifest([tool({ run: { argv: [] } })]), 'tools.0.run'],
    ['shell string instead of argv', manifest([tool({ run: { argv: 'cat {path}' } })]), 'tools.0.run'],
  ])('%s → MANIFEST_SHAPE naming the path', (_label, input, path) => {
    const result = parseManifest(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('MANIFEST_SHAPE');
      expect(result.error.path.startsWith(path === '(root)' ? '(root)' : path)).toBe(true);
    }
  });

  it('reports the tool and capability index of a bad capability', () => {
    const result = parseManifest(manifest([tool(), tool({ name: 'b', capabilities: ['exec:spawn:cat', 'net:connect:x.example:99999'] })]));
    expect(result).toMatchObject({ ok: false, error: { code: 'CAP_NET_PORT', path: 'tools.1.capabilities.1', tool: 1, index: 1 } });
  });

  it('refuses duplicate tool names', () => {
    expect(parseManifest(manifest([tool(), tool()]))).toMatchObject({
      ok: false,
      error: { code: 'MANIFEST_TOOL_DUPLICATE', path: 'tools.1.name' },
    });
  });

  it('refuses argv[0] not declared by exec:spawn of that same tool', () => {
    expect(parseManifest(manifest([tool({ capabilities: ['fs:read:/workspace/**'] })]))).toMatchObject({
      ok: false,
      error: { code: 'MANIFEST_RUN_UNDECLARED_EXEC', path: 'tools.0.run.argv.0' },
    });
    // Declared by another tool does not count.
    const other = { name: 'sh', capabilities: ['exec:spawn:cat'] };
    expect(parseManifest(manifest([other, tool({ capabilities: [] })]))).toMatchObject({
      ok: false,
      error: { code: 'MANIFEST_RUN_UNDECLARED_EXEC', tool: 1 },
    });
    expect(parseManifest(manifest([tool({ run: { argv: ['/bin/cat', '{path}'] } })]))).toMatchObject({
      ok: false,
      error: { code: 'MANIFEST_RUN_UNDECLARED_EXEC' },
    });
    expect(parseManifest(manifest([tool({ run: { mcp: { command: ['python3', 's.py'], tool: 't' } } })]))).toMatchObject({
      ok: false,
      error: { code: 'MANIFEST_RUN_UNDECLARED_EXEC', path: 'tools.0.run.mcp.command.0' },
    });
  });

  it.each([
    ['placeholder as the binary', ['{path}']],
    ['stray brace', ['cat', '{path']],
    ['nested braces', ['cat', '{{path}}']],
    ['placeholder not in inputSchema', ['cat', '{other}']],
  ])('refuses a run argv with %s', (_label, argv) => {
    const input = manifest([tool({ run: { argv }, inputSchema: { type: 'object', properties: { path: { type: 'string' } } } })]);
    expect(parseManifest(input)).toMatchObject({ ok: false, error: { code: 'MANIFEST_RUN_ARGV' } });
  });

  it('answers TOOL_NOT_FOUND for --tool naming no tool', () => {
    expect(compilePolicy(manifest(), 'nope')).toEqual({
      ok: false,
      error: { code: 'TOOL_NOT_FOUND', path: 'tool', message: 'no tool of the manifest has this name. Got "nope".' },
    });
  });
});

describe('normalized policy', () => {
  it('provenance is the sha256 of the RFC 8785 form: key order and whitespace do not change it', () => {
    const a = compilePolicy(manifest());
    const b = compilePolicy(
      JSON.parse(
        `{"tools":[{"run":{"argv":["cat","{path}"]},"capabilities":["exec:spawn:cat","fs:read:/workspace/**"],"name":"cat"}],"version":"1.0.0","name":"demo"}`,
      ),
    );
    expect(a.ok && b.ok && a.policy.provenance === b.policy.provenance).toBe(true);
    expect(a.ok && a.policy.provenance).toMatch(/^sha256:[0-9a-f]{64}$/);
    const c = compilePolicy(manifest([tool({ description: 'changed' })]));
    expect(a.ok && c.ok && a.policy.provenance !== c.policy.provenance).toBe(true);
  });

  it('merges fs: write implies read, create/delete imply write, a covering tree absorbs narrower grants', () => {
    const result = compilePolicy(
      manifest([
        {
          name: 't',
          capabilities: ['fs:read:/a/**', 'fs:read:/a/b/c', 'fs:create:/a/b/**', 'fs:read:/a/b/d.txt', 'fs:delete:/x', 'fs:read:/x'],
        },
      ]),
    );
    if (!result.ok) throw new Error(result.error.code);
    expect(result.policy.fs).toEqual([
      { path: '/a', tree: true, read: true, write: false, create: false, delete: false },
      { path: '/a/b', tree: true, read: true, write: true, create: true, delete: false },
      { path: '/x', tree: false, read: true, write: true, create: false, delete: true },
    ]);
  });

  it('dedupes net, keeps blockPrivate, and per-tool compile sees only that tool', () => {
    const input = manifest([
      { name: 'a', capabilities: ['net:connect:api.github.com', 'net:connect:API.github.com:443', 'env:inject:TOKEN'] },
      { name: 'b', capabilities: ['net:connect:*:443', 'net:connect:x.example:443', 'net:connect:x.example:8443'] },
    ]);
    const server = compilePolicy(input);
    const onlyA = compilePolicy(input, 'a');
    if (!server.ok || !onlyA.ok) throw new Error('compile failed');
    expect(server.policy.net).toEqual([
      { host: '*', port: 443 },
      { host: 'x.example', port: 8443 },
    ]);
    expect(server.policy.blockPrivate).toBe(true);
    expect(onlyA.policy.net).toEqual([{ host: 'api.github.com', port: 443 }]);
    expect(onlyA.policy.env).toEqual({ read: [], inject: ['TOKEN'] });
    expect(onlyA.policy.scope).toEqual({ kind: 'tool', tool: 'a' });
    expect(onlyA.policy.provenance).toBe(server.policy.provenance);
  });
});
