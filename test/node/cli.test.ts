/**
 * The `portcullis` CLI as a user runs it: a subprocess of bin/portcullis.mjs (the bundle
 * `npm run build` / `prepare` writes), checking stdout, stderr and exit codes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileManifest } from '../../src/policy/index.ts';
import { CAPGATE_SERVERS, GOLDEN_VARIANTS } from '../golden-variants.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'portcullis.mjs');
const GOLDENS = join(ROOT, 'test', 'fixtures', 'goldens');
const GITHUB = join(GOLDENS, 'github', 'manifest.json');

function run(args: string[], input?: string | Buffer, node = process.execPath) {
  const result = spawnSync(node, [BIN, ...args], { input, encoding: 'utf8', cwd: ROOT });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const tmp = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
function file(name: string, content: string | Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

describe('portcullis compile', () => {
  it('0: prints the same artifact as compileManifest for a file', () => {
    const { code, stdout, stderr } = run(['compile', GITHUB, '--target', 'docker']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const expected = compileManifest(JSON.parse(readFileSync(GITHUB, 'utf8')), { target: 'docker' });
    expect(expected.ok && JSON.parse(stdout)).toEqual(expected.ok && JSON.parse(JSON.stringify(expected.artifact)));
    expect(stdout.split('\n').length).toBe(2); // one line of JSON without --pretty
  });

  it('0: reads the manifest from stdin with -, and --pretty indents', () => {
    const { code, stdout } = run(['compile', '-', '--target=egress', '--egress-target', 'nftables', '--pretty'], readFileSync(GITHUB));
    expect(code).toBe(0);
    expect(stdout).toContain('\n  "target": "egress"');
    expect(JSON.parse(stdout).config).toContain('policy drop;');
  });

  it('0: --tool compiles one tool only', () => {
    const { code, stdout } = run(['compile', GITHUB, '--target', 'cloudflare', '--tool', 'search_repositories']);
    expect(code).toBe(0);
    const artifact = JSON.parse(stdout);
    expect(artifact.scope).toEqual({ kind: 'tool', tool: 'search_repositories' });
    expect(artifact.config.allowedHosts).toEqual([{ host: 'api.github.com', port: 443 }]);
  });

  it('0: --help documents targets, options and exit codes', () => {
    const { code, stdout } = run(['--help']);
    expect(code).toBe(0);
    for (const word of [
      'bwrap',
      'docker',
      'egress',
      'cloudflare',
      'k8s',
      '--egress-target',
      '--tool',
      '--pretty',
      'stdin',
      '0 ',
      '2 ',
      '3 ',
      '4 ',
    ])
      expect(stdout).toContain(word);
  });

  it.each([
    ['no target', ['compile', GITHUB]],
    ['unknown target', ['compile', GITHUB, '--target', 'lxc']],
    ['unknown option', ['compile', GITHUB, '--target', 'bwrap', '--yolo']],
    ['unknown command', ['run', GITHUB]],
    ['two inputs', ['compile', GITHUB, GITHUB, '--target', 'bwrap']],
    ['no input', ['compile', '--target', 'bwrap']],
    ['egress target without egress', ['compile', GITHUB, '--target', 'bwrap', '--egress-target', 'squid']],
    ['unknown egress target', ['compile', GITHUB, '--target', 'egress', '--egress-target', 'iptables']],
    ['missing option value', ['compile', GITHUB, '--target']],
    ['target given twice', ['compile', GITHUB, '--target', 'bwrap', '--target', 'docker']],
  ])('2: usage error (%s), nothing on stdout', (_label, args) => {
    const { code, stdout, stderr } = run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('portcullis:');
  });

  it.each([
    ['missing file', () => join(tmp, 'nope.json')],
    ['not JSON', () => file('bad.json', '{"name": ')],
    ['not UTF-8', () => file('latin1.json', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]))],
    ['larger than 1 MiB', () => file('big.json', JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }))],
    ['a directory', () => tmp],
  ])('3: unreadable or non-JSON input (%s)', (_label, path) => {
    const { code, stdout } = run(['compile', path(), '--target', 'bwrap']);
    expect(code).toBe(3);
    expect(stdout).toBe('');
  });

  it('3: non-JSON on stdin', () => {
    expect(run(['compile', '-', '--target', 'k8s'], 'not json').code).toBe(3);
  });

  it.each([
    [
      'a malformed capability',
      { name: 'x', version: '1', tools: [{ name: 't', capabilities: ['exec:spawn:cat', 'net:connect:127.0.0.1:443'] }] },
      'CAP_NET_PRIVATE at tools.0.capabilities.1: the host is a private',
      '"net:connect:127.0.0.1:443"',
    ],
    ['a wrong shape', { name: 'x', version: '1', tools: 'nope' }, 'MANIFEST_SHAPE at tools: expected array, found a string.', '"nope"'],
    [
      'an undeclared run binary',
      { name: 'x', version: '1', tools: [{ name: 't', capabilities: [], run: { argv: ['sh', '-c', 'id'] } }] },
      'MANIFEST_RUN_UNDECLARED_EXEC at tools.0.run.argv.0: the binary a tool runs must be declared',
      '"sh"',
    ],
    [
      'an unknown key',
      { name: 'x', version: '1', tools: [{ name: 't', capabilities: [], capabilites: ['fs:write:/etc/**'] }] },
      'MANIFEST_SHAPE at tools.0.capabilites: unknown key "capabilites" in tools.0; allowed keys:',
      '',
    ],
    [
      'a grammar pin we do not implement',
      { name: 'x', version: '1', grammar: '1.0 ', tools: [{ name: 't', capabilities: [] }] },
      'MANIFEST_GRAMMAR at grammar: this compiler implements capgate grammar "0.0" only',
      '"1.0 "',
    ],
  ])('4: compile error for %s names the code, the path, why and the offending value on stderr', (_label, manifest, expected, value) => {
    const { code, stdout, stderr } = run(['compile', '-', '--target', 'bwrap'], JSON.stringify(manifest));
    expect(code).toBe(4);
    expect(stdout).toBe('');
    expect(stderr).toContain(`portcullis: ${expected}`);
    expect(stderr).toContain(value);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('4: --json prints {errors: [{code, path, message}]} on stdout, and control characters never reach the terminal', () => {
    const manifest = { name: 'x', version: '1', tools: [{ name: 't', capabilities: ['assert:a.b:"\u001b]0;pwned\u0007"'] }] };
    const { code, stdout, stderr } = run(['compile', '-', '--target', 'docker', '--json'], JSON.stringify(manifest));
    expect(code).toBe(4);
    const body = JSON.parse(stdout) as { errors: { code: string; path: string; message: string }[] };
    expect(body.errors).toHaveLength(1);
    expect(Object.keys(body.errors[0] ?? {})).toEqual(['code', 'path', 'message']);
    expect(body.errors[0]).toMatchObject({ code: 'CAP_CONTROL_CHAR', path: 'tools.0.capabilities.0' });
    expect(body.errors[0]?.message).toContain('\\u001b]0;pwned\\u0007');
    // eslint-disable-next-line no-control-regex -- the point: neither stream carries a raw control character
    for (const text of [stdout, stderr]) expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('--json also reports input and usage errors as objects', () => {
    const notJson = run(['compile', '-', '--target', 'k8s', '--json'], 'not json');
    expect(notJson.code).toBe(3);
    expect(JSON.parse(notJson.stdout)).toEqual({
      errors: [{ code: 'INPUT_NOT_JSON', path: '(input)', message: 'the manifest is not valid UTF-8 JSON' }],
    });
    const usage = run(['compile', '-', '--target', 'nope', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toMatchObject({ errors: [{ code: 'USAGE', path: '(arguments)' }] });
  });

  it('4: --tool naming no tool is TOOL_NOT_FOUND', () => {
    const { code, stderr } = run(['compile', GITHUB, '--target', 'bwrap', '--tool', 'nope']);
    expect(code).toBe(4);
    expect(stderr).toContain('TOOL_NOT_FOUND');
  });

  describe('capgate reference manifests compile through the CLI to the goldens', () => {
    for (const server of CAPGATE_SERVERS) {
      it.each(GOLDEN_VARIANTS)(`${server}: %s`, (variant, options) => {
        const args = [
          'compile',
          join(GOLDENS, server, 'manifest.json'),
          '--target',
          options.target,
          ...(options.egressTarget ? ['--egress-target', options.egressTarget] : []),
          '--pretty',
        ];
        const { code, stdout, stderr } = run(args);
        expect(stderr).toBe('');
        expect(code).toBe(0);
        expect(stdout).toBe(readFileSync(join(GOLDENS, server, `${variant}.json`), 'utf8'));
      });
    }
  });

  // The machine's own Node (20 here) must run the bundle too, not only npm's Node 24.
  const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path) && path !== process.execPath);
  it('runs on every Node found on this machine (bundle targets Node 20)', () => {
    for (const node of [process.execPath, systemNode].filter((n): n is string => n !== undefined)) {
      const { code, stdout } = run(['compile', '-', '--target', 'bwrap'], readFileSync(GITHUB), node);
      expect(code, node).toBe(0);
      expect(JSON.parse(stdout).argv[0]).toBe('bwrap');
    }
  });
});
