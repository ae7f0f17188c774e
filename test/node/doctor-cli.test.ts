/**
 * `portcullis doctor`, `--version` and `--json` errors as a user runs them: subprocesses of
 * bin/portcullis.mjs, checking exit codes, both streams, and what `--fix` does to files.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'portcullis.mjs');
const today = new Date().toISOString().slice(0, 10);
const SAFE_TOML = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
  .replace(/^compatibility_date = ".*"$/m, `compatibility_date = "${today}"`)
  .replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nTOOL_EXECUTOR = "container"');
const SAFE_ENV = `SETUP_TOKEN=${randomBytes(32).toString('base64url')}\nVAULT_KEYS=k1:${randomBytes(32).toString('base64')}\nRUNNER_SECRET=${randomBytes(32).toString('base64url')}\n`;

const dir = mkdtempSync(join(tmpdir(), 'portcullis-doctor-cli-'));
let count = 0;
function file(text: string, mode = 0o600): string {
  const path = join(dir, `f${count++}`);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function run(args: string[], env: Record<string, string> = {}) {
  const { PORTCULLIS_API_KEY: _ignored, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir, env: { ...inherited, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('portcullis --version', () => {
  it('prints the package version, exit 0', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const { code, stdout } = run(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`portcullis ${version}\n`);
  });
});

describe('portcullis doctor exit codes (subprocess)', () => {
  it('0: a safe configuration and env file', () => {
    const { code, stdout, stderr } = run(['doctor', '--config', file(SAFE_TOML), '--env-file', file(SAFE_ENV)]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('0 critical, 0 high');
  });

  it('1: a high finding; text is grouped by severity, with no colour when stdout is not a terminal', () => {
    const { code, stdout } = run(['doctor', '--config', file(SAFE_TOML.replace('TOOL_EXECUTOR = "container"', 'TOOL_EXECUTOR = "local"'))]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^HIGH \(1\)\n {2}config\.executor\.local {2}TOOL_EXECUTOR = "local" in \[vars\]\n {4}fix: /m);
    // eslint-disable-next-line no-control-regex -- the point: no ANSI escapes into a pipe
    expect(stdout).not.toMatch(/\u001b\[/);
  });

  it.each([
    ['an unknown option', ['doctor', '--yolo']],
    ['an option without its value', ['doctor', '--config']],
    ['an option given twice', ['doctor', '--config', 'a', '--config', 'b']],
    ['a value for a flag', ['doctor', '--fix=yes']],
    ['a positional argument', ['doctor', 'wrangler.toml']],
    ['plain http to a public host', ['doctor', '--url', 'http://gateway.example.com']],
    ['not a URL', ['doctor', '--url', 'gateway']],
    ['nothing to check (no ./wrangler.toml here)', ['doctor']],
  ])('2: usage error for %s; with --json the same as an object', (_label, args) => {
    const plain = run(args);
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain('portcullis doctor:');
    const json = run([...args, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ errors: [{ code: 'USAGE', path: '(arguments)' }] });
  });

  it('2: an unknown option is quoted, so control characters never reach the terminal', () => {
    const { code, stderr } = run(['doctor', '--\u001b]0;pwned\u0007']);
    expect(code).toBe(2);
    // eslint-disable-next-line no-control-regex -- the point: no raw control character on stderr
    expect(stderr.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('3: a --config that does not exist could not run, and says so', () => {
    const { code, stdout } = run(['doctor', '--config', join(dir, 'missing.toml'), '--json']);
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({
      findings: [],
      notRun: [{ check: 'config', reason: expect.stringContaining('ENOENT') }],
      exitCode: 3,
    });
  });

  it('3: a --url where nothing listens could not run; the API checks are not attempted', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, stdout } = run(['doctor', '--config', file(SAFE_TOML), '--url', url, '--json'], {
      PORTCULLIS_API_KEY: 'pcl_not_sent_anywhere',
    });
    expect(code).toBe(3);
    const report = JSON.parse(stdout) as { notRun: { check: string }[] };
    expect(report.notRun.map((n) => n.check)).toEqual(['live', 'api']);
  });
});

describe('portcullis doctor --fix', () => {
  it('chmods the env file to 600 and removes DANGEROUSLY_* lines after a backup; secrets in [vars] are reported, never edited', () => {
    const toml = file(
      SAFE_TOML.replace(
        'RATE_LIMITS = ""',
        'RATE_LIMITS = ""\nDANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS = "true"\nSETUP_TOKEN = "in-the-repo-0123456789"',
      ),
    );
    const env = file(`${SAFE_ENV}DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS=true\n`, 0o644);
    const tomlBefore = readFileSync(toml, 'utf8');
    const envBefore = readFileSync(env, 'utf8');
    const { code, stdout } = run(['doctor', '--config', toml, '--env-file', env, '--fix', '--json']);
    const report = JSON.parse(stdout) as { findings: { id: string }[]; fix: { changed: string[]; refused: string[] } };
    // After the fix only what doctor must not touch is left: the secret in [vars].
    expect(report.findings.map((f) => f.id)).toEqual(['config.secret.in_vars']);
    expect(code).toBe(1);
    expect(statSync(env).mode & 0o777).toBe(0o600);
    expect(readFileSync(toml, 'utf8')).toBe(tomlBefore.replace('DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS = "true"\n', ''));
    expect(readFileSync(env, 'utf8')).toBe(envBefore.replace('DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS=true\n', ''));
    expect(readFileSync(`${toml}.doctor-backup`, 'utf8')).toBe(tomlBefore);
    expect(readFileSync(`${env}.doctor-backup`, 'utf8')).toBe(envBefore);
    expect(statSync(`${env}.doctor-backup`).mode & 0o077).toBe(0);
    expect(report.fix.changed.join('\n')).toContain('mode 644 → 600');
    expect(report.fix.refused).toEqual([]);
    // The diff-like summary names lines, never values.
    expect(stdout).not.toContain('in-the-repo-0123456789');
    expect(stdout).not.toContain(SAFE_ENV.split('\n')[0]?.split('=')[1]);
  });

  it('refuses to edit when a backup already exists, and leaves the file as it was', () => {
    const text = SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nDANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS = "true"');
    const toml = file(text);
    writeFileSync(`${toml}.doctor-backup`, 'an older backup');
    const { code, stdout } = run(['doctor', '--config', toml, '--fix', '--json']);
    const report = JSON.parse(stdout) as { findings: { id: string }[]; fix: { changed: string[]; refused: string[] } };
    expect(code).toBe(1);
    expect(report.findings.map((f) => f.id)).toEqual(['config.flag.dangerous']);
    expect(report.fix.refused.join('\n')).toContain('already exists');
    expect(readFileSync(toml, 'utf8')).toBe(text);
    expect(readFileSync(`${toml}.doctor-backup`, 'utf8')).toBe('an older backup');
  });

  it('refuses a shape it cannot edit safely (an inline vars table): file unchanged, no backup', () => {
    const text = SAFE_TOML.replace(
      /\[vars\][\s\S]*?RATE_LIMITS = ""\nTOOL_EXECUTOR = "container"\n/,
      'vars = { TOOL_EXECUTOR = "container", DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS = "true" }\n',
    );
    expect(text).toContain('vars = {');
    const toml = file(text);
    const { stdout } = run(['doctor', '--config', toml, '--fix', '--json']);
    const report = JSON.parse(stdout) as { findings: { id: string }[]; fix: { changed: string[]; refused: string[] } };
    expect(report.findings.map((f) => f.id)).toEqual(['config.flag.dangerous']);
    expect(report.fix.refused).toHaveLength(1);
    expect(report.fix.changed).toEqual([]);
    expect(readFileSync(toml, 'utf8')).toBe(text);
    expect(existsSync(`${toml}.doctor-backup`)).toBe(false);
  });

  it('refuses an edit whose result would read back differently (a flag-shaped line inside a multi-line string): file unchanged, no backup', () => {
    const text = SAFE_TOML.replace(
      'RATE_LIMITS = ""',
      'RATE_LIMITS = ""\nDANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS = "true"\nNOTE = """\nDANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS = "true"\n"""',
    );
    const toml = file(text);
    const { stdout } = run(['doctor', '--config', toml, '--fix', '--json']);
    const report = JSON.parse(stdout) as { findings: { id: string }[]; fix: { changed: string[]; refused: string[] } };
    expect(report.findings.map((f) => f.id)).toEqual(['config.flag.dangerous']);
    expect(report.fix.refused.join('\n')).toContain('not in a shape doctor edits safely');
    expect(readFileSync(toml, 'utf8')).toBe(text);
    expect(existsSync(`${toml}.doctor-backup`)).toBe(false);
  });
});

describe('vault rotate: --json errors', () => {
  it('2: a usage error is also an object on stdout', () => {
    const { code, stdout, stderr } = run(['vault', 'rotate', '--url', 'http://gateway.example.com', '--json']);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ errors: [{ code: 'USAGE', path: '(arguments)', message: expect.stringContaining('--url') }] });
    expect(stderr).toContain('portcullis:');
  });

  it('5: an unreachable gateway is GATEWAY_UNREACHABLE', async () => {
    const { code, stdout } = run(['vault', 'rotate', '--url', `http://127.0.0.1:${await closedPort()}`, '--json'], {
      PORTCULLIS_API_KEY: 'pcl_x',
    });
    expect(code).toBe(5);
    expect(JSON.parse(stdout)).toMatchObject({ errors: [{ code: 'GATEWAY_UNREACHABLE' }] });
  });
});
