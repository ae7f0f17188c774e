/**
 * `portcullis doctor` offline: deliberately unsafe wrangler.toml and env files, one change at
 * a time over a safe baseline (the repository's own wrangler.toml made production-ready), each
 * asserting the finding's id and severity; the safe baseline yields nothing above info.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { doctor } from '../../cli/doctor/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REPO_TOML = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
const NOW = Date.now();
const today = new Date(NOW).toISOString().slice(0, 10);
const daysAgo = (days: number) => new Date(NOW - days * 86_400_000).toISOString().slice(0, 10);

/** The repository's wrangler.toml with the one production setting it leaves to the operator, and today's date. */
const SAFE_TOML = REPO_TOML.replace(/^compatibility_date = ".*"$/m, `compatibility_date = "${today}"`).replace(
  'RATE_LIMITS = ""',
  'RATE_LIMITS = ""\nTOOL_EXECUTOR = "container"',
);
const strong = () => randomBytes(32).toString('base64url');
const SAFE_ENV = {
  SETUP_TOKEN: strong(),
  VAULT_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  RUNNER_SECRET: strong(),
  TOOL_EXECUTOR: 'local',
};

const dir = mkdtempSync(join(tmpdir(), 'portcullis-doctor-config-'));
let files = 0;
function write(text: string, mode = 0o600): string {
  const path = join(dir, `file-${files++}`);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}
const envText = (values: Record<string, string>) =>
  Object.entries(values)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');

interface Report {
  findings: { id: string; severity: string; seen: string; fix: string }[];
  notRun: { check: string; reason: string }[];
  exitCode: number;
}

async function run(args: string[]): Promise<{ code: number; report: Report; text: string }> {
  const out: string[] = [];
  const code = await doctor([...args, '--json'], {
    fetch,
    env: {},
    now: () => NOW,
    stdout: (t) => out.push(t),
    stderr: () => undefined,
    colour: false,
  });
  return { code, report: JSON.parse(out.join('')) as Report, text: out.join('') };
}
const pairs = (report: Report) => [...new Set(report.findings.map((f) => `${f.id} ${f.severity}`))].sort();

describe('portcullis doctor: configuration and secrets', () => {
  it('the safe baseline: nothing above info, exit 0', async () => {
    const { code, report } = await run(['--config', write(SAFE_TOML), '--env-file', write(envText(SAFE_ENV))]);
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(report.notRun).toEqual([]);
    expect(code).toBe(0);
  });

  it("the repository's own wrangler.toml has every binding and migration the code needs", async () => {
    const { report } = await run(['--config', join(ROOT, 'wrangler.toml')]);
    expect(
      report.findings
        .map((f) => f.id)
        .filter((id) => id.startsWith('config.binding') || id.startsWith('config.migration') || id === 'config.compat.nodejs_compat'),
    ).toEqual([]);
  });

  const tomlCases: [string, string, string[]][] = [
    [
      'a secret written as a plain var',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nVAULT_KEYS = "k1:c2VjcmV0"'),
      ['config.secret.in_vars critical'],
    ],
    [
      "a secret in an environment's vars",
      `${SAFE_TOML}\n[env.production.vars]\nTOOL_EXECUTOR = "container"\nSETUP_TOKEN = "hunter2hunter2"\n`,
      ['config.secret.in_vars critical'],
    ],
    [
      'a DANGEROUSLY_* flag',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nDANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS = "true"'),
      ['config.flag.dangerous critical'],
    ],
    [
      'TOOL_EXECUTOR local in production',
      SAFE_TOML.replace('TOOL_EXECUTOR = "container"', 'TOOL_EXECUTOR = "local"'),
      ['config.executor.local high'],
    ],
    ['TOOL_EXECUTOR unset', SAFE_TOML.replace('TOOL_EXECUTOR = "container"', ''), ['config.executor.unset low']],
    [
      'an operator allowance with a wildcard',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nTOOL_OPERATOR_ALLOW = "db.internal:5432,*.corp.example:443"'),
      ['config.operator_allow.wide high'],
    ],
    [
      'an operator allowance with a CIDR range',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nTOOL_OPERATOR_ALLOW = "10.0.0.0/8:80"'),
      ['config.operator_allow.wide high'],
    ],
    [
      'a model private host that is a range',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nMODEL_PRIVATE_HOSTS = "192.168.0.0/16"'),
      ['config.operator_allow.wide high'],
    ],
    [
      'an operator allowance the gateway ignores',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = ""\nTOOL_OPERATOR_ALLOW = "db.internal"'),
      ['config.operator_allow.malformed low'],
    ],
    ['malformed RATE_LIMITS', SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = "{not json"'), ['config.ratelimit.invalid high']],
    [
      'an API limit raised 50 times',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = \'{"api-ip":{"limit":10000,"windowS":10}}\''),
      ['config.ratelimit.raised medium'],
    ],
    [
      'a login limit raised 100 times',
      SAFE_TOML.replace('RATE_LIMITS = ""', 'RATE_LIMITS = \'{"login-failures":{"limit":1000,"windowS":900}}\''),
      ['config.ratelimit.auth_raised high'],
    ],
    [
      'no nodejs_compat',
      SAFE_TOML.replace('compatibility_flags = ["nodejs_compat"]', 'compatibility_flags = []'),
      ['config.compat.nodejs_compat high'],
    ],
    [
      'a compatibility_date 400 days old',
      SAFE_TOML.replace(`compatibility_date = "${today}"`, `compatibility_date = "${daysAgo(400)}"`),
      ['config.compat.date_stale low'],
    ],
    [
      'a Durable Object binding missing',
      SAFE_TOML.replace('[[durable_objects.bindings]]\nname = "WEBHOOK_DEDUPE"\nclass_name = "WebhookDedupe"\n', ''),
      ['config.binding.missing high'],
    ],
    [
      'a migration missing',
      SAFE_TOML.replace('new_sqlite_classes = ["RateLimiter"]', 'new_sqlite_classes = []'),
      ['config.migration.missing high'],
    ],
    ['the D1 binding renamed', SAFE_TOML.replace('binding = "DB"', 'binding = "DATABASE"'), ['config.binding.missing high']],
    [
      'a container with internet',
      SAFE_TOML.replace(/^max_instances = \d+$/m, '$&\nenable_internet = true'),
      ['config.container.internet critical'],
    ],
  ];

  it.each(tomlCases)('wrangler.toml with %s', async (_label, toml, expected) => {
    // Each case edits the repository's own wrangler.toml: an edit that no longer matches it would test the safe file.
    expect(toml).not.toBe(SAFE_TOML);
    const { code, report, text } = await run(['--config', write(toml), '--env-file', write(envText(SAFE_ENV))]);
    expect(pairs(report)).toEqual(expected);
    expect(code).toBe(expected.some((p) => p.endsWith(' critical') || p.endsWith(' high')) ? 1 : 0);
    // A secret's value is never printed, even the one written as a plain var.
    for (const value of ['c2VjcmV0', 'hunter2hunter2', ...Object.values(SAFE_ENV).filter((v) => v.length > 10)])
      expect(text).not.toContain(value);
  });

  const envCases: [string, Record<string, string>, string[]][] = [
    ['SETUP_TOKEN short', { ...SAFE_ENV, SETUP_TOKEN: 'changeme' }, ['secrets.setup_token.weak high']],
    ['SETUP_TOKEN repetitive', { ...SAFE_ENV, SETUP_TOKEN: 'ab'.repeat(20) }, ['secrets.setup_token.weak high']],
    [
      'SETUP_TOKEN absent',
      { VAULT_KEYS: SAFE_ENV.VAULT_KEYS, RUNNER_SECRET: SAFE_ENV.RUNNER_SECRET },
      ['secrets.setup_token.missing info'],
    ],
    [
      'VAULT_KEYS absent',
      { SETUP_TOKEN: SAFE_ENV.SETUP_TOKEN, RUNNER_SECRET: SAFE_ENV.RUNNER_SECRET },
      ['secrets.vault_keys.missing medium'],
    ],
    [
      'VAULT_KEYS with a 16-byte key',
      { ...SAFE_ENV, VAULT_KEYS: `k1:${randomBytes(16).toString('base64')}` },
      ['secrets.vault_keys.invalid high'],
    ],
    ['VAULT_KEYS without an id', { ...SAFE_ENV, VAULT_KEYS: randomBytes(32).toString('base64') }, ['secrets.vault_keys.invalid high']],
    [
      'VAULT_KEYS of 32 zero bytes',
      { ...SAFE_ENV, VAULT_KEYS: `k1:${Buffer.alloc(32).toString('base64')}` },
      ['secrets.vault_keys.weak critical'],
    ],
    [
      'an old key that is all zero behind a good one',
      { ...SAFE_ENV, VAULT_KEYS: `${SAFE_ENV.VAULT_KEYS},old:${Buffer.alloc(32).toString('base64')}` },
      ['secrets.vault_keys.weak critical'],
    ],
    ['RUNNER_SECRET short', { ...SAFE_ENV, RUNNER_SECRET: 'x'.repeat(31) }, ['secrets.runner_secret.weak high']],
    [
      'RUNNER_SECRET absent while TOOL_EXECUTOR is set',
      { SETUP_TOKEN: SAFE_ENV.SETUP_TOKEN, VAULT_KEYS: SAFE_ENV.VAULT_KEYS, TOOL_EXECUTOR: 'local' },
      ['secrets.runner_secret.missing medium'],
    ],
    [
      'a DANGEROUSLY_* flag in the env file',
      { ...SAFE_ENV, DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS: 'true' },
      ['config.flag.dangerous critical'],
    ],
  ];

  it.each(envCases)('env file with %s', async (_label, values, expected) => {
    const { report, text } = await run(['--config', write(SAFE_TOML), '--env-file', write(envText(values))]);
    expect(pairs(report)).toEqual(expected);
    for (const value of Object.values(values).filter((v) => v.length > 10)) expect(text).not.toContain(value);
    expect(text).not.toContain('changeme');
  });

  it.each([0o644, 0o640, 0o604])('an env file with mode %o is readable by others: high', async (mode) => {
    const { code, report } = await run(['--config', write(SAFE_TOML), '--env-file', write(envText(SAFE_ENV), mode)]);
    expect(pairs(report)).toEqual(['secrets.env_file.permissions high']);
    expect(code).toBe(1);
  });

  it('a config file that does not parse is a check that could not run: exit 3, nothing claimed about it', async () => {
    const { code, report } = await run(['--config', write('name = "x"\n[vars\n')]);
    expect(report.findings).toEqual([]);
    expect(report.notRun).toEqual([expect.objectContaining({ check: 'config' })]);
    expect(code).toBe(3);
  });

  it('an unreadable env file could not run, but a high finding elsewhere still decides: exit 1', async () => {
    const { code, report } = await run([
      '--config',
      write(SAFE_TOML.replace('TOOL_EXECUTOR = "container"', 'TOOL_EXECUTOR = "local"')),
      '--env-file',
      join(dir, 'no-such-file'),
    ]);
    expect(report.notRun).toEqual([expect.objectContaining({ check: 'secrets' })]);
    expect(pairs(report)).toEqual(['config.executor.local high']);
    expect(code).toBe(1);
  });
});
