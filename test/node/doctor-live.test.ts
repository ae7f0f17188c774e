/**
 * `portcullis doctor --url` against real gateways started with `npm run dev` (scripts/dev.mjs):
 * one made deliberately unsafe through the real API (setup left open, then an unrestricted
 * agent, a shell tool and a net:connect:* tool without approval, an unbound credential, a key
 * without expiry), one configured safely. Each runs in a scratch copy of the project (its own
 * .dev.vars and local D1), so nothing in the checkout is touched. The local runner is kept off
 * (a `bwrap` that fails on PATH): doctor never runs a tool, and the runner's fixed port must
 * not collide with other test runs.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'portcullis.mjs');
/** Generous: wrangler dev boots slowly on a loaded machine. A deadline, never a sleep. */
const BOOT_DEADLINE_MS = 240_000;
const PASSWORD = 'a long doctor passphrase for tests 42';

interface Gateway {
  url: string;
  setupToken: string;
  dir: string;
  process: ChildProcess;
  log: string[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A fresh clone as far as `npm run dev` can tell: scripts copied (dev.mjs finds the project root from its own path), the rest linked. */
async function startGateway(extraVars: Record<string, string>): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-doctor-live-'));
  for (const name of ['src', 'migrations', 'containers', 'node_modules', 'package.json', 'tsconfig.json'])
    symlinkSync(join(ROOT, name), join(dir, name));
  cpSync(join(ROOT, 'scripts'), join(dir, 'scripts'), { recursive: true });
  cpSync(join(ROOT, 'wrangler.toml'), join(dir, 'wrangler.toml'));
  mkdirSync(join(dir, 'fake-bin'));
  writeFileSync(join(dir, 'fake-bin', 'bwrap'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(dir, 'fake-bin', 'bwrap'), 0o755);
  const setupToken = randomBytes(32).toString('base64url');
  const vars = {
    SETUP_TOKEN: setupToken,
    VAULT_KEYS: `local1:${randomBytes(32).toString('base64')}`,
    RUNNER_SECRET: randomBytes(32).toString('base64url'),
    RUNNER_URL: 'http://127.0.0.1:9',
    TOOL_EXECUTOR: 'local',
    RUNNER_WORKSPACE_ROOT: join(dir, 'workspaces'),
    ...extraVars,
  };
  writeFileSync(
    join(dir, '.dev.vars'),
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const port = await freePort();
  const inspector = await freePort();
  const log: string[] = [];
  const child = spawn('npm', ['run', 'dev', '--', '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspector)], {
    cwd: dir,
    env: { ...process.env, PATH: `${join(dir, 'fake-bin')}:${process.env.PATH ?? ''}`, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + BOOT_DEADLINE_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited ${child.exitCode}:\n${log.join('')}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the gateway did not come up:\n${log.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { url, setupToken, dir, process: child, log };
}

async function stopGateway(gateway: Gateway | undefined): Promise<void> {
  if (!gateway) return;
  const { process: child } = gateway;
  if (child.exitCode === null && child.pid) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // stopped on SIGTERM
    }
  }
  rmSync(gateway.dir, { recursive: true, force: true });
}

async function api(gateway: Gateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

/** Setup, sign-in, and an API key with `scopes` (expiring when `expiresInDays` is given). */
async function ownerKey(gateway: Gateway, scopes: string[], expiresInDays?: number): Promise<string> {
  const email = 'owner@example.com';
  const setup = await api(gateway, 'POST', '/api/v1/setup', { token: gateway.setupToken, workspace: 'Doctor', email, password: PASSWORD });
  expect([201, 409]).toContain(setup.status);
  const login = await api(gateway, 'POST', '/api/v1/auth/login', { email, password: PASSWORD });
  expect(login.status).toBe(200);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const created = await api(
    gateway,
    'POST',
    '/api/v1/api-keys',
    { name: `doctor ${scopes.join(' ')}`, scopes, ...(expiresInDays ? { expiresInDays } : {}) },
    { Cookie: cookie, 'X-CSRF-Token': String(login.json.csrfToken) },
  );
  expect(created.status).toBe(201);
  return String(created.json.key);
}

function doctor(args: string[], env: Record<string, string> = {}) {
  const { PORTCULLIS_API_KEY: _ignored, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [BIN, 'doctor', ...args], { encoding: 'utf8', env: { ...inherited, ...env }, cwd: tmpdir() });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Report {
  findings: { id: string; severity: string; seen: string }[];
  notRun: { check: string; reason: string }[];
  exitCode: number;
}
const pairs = (report: Report) => [...new Set(report.findings.map((f) => `${f.id} ${f.severity}`))].sort();

let unsafe: Gateway | undefined;
let safe: Gateway | undefined;

beforeAll(async () => {
  [unsafe, safe] = await Promise.all([startGateway({ DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS: 'true' }), startGateway({})]);
}, BOOT_DEADLINE_MS + 60_000);

afterAll(async () => {
  await Promise.all([stopGateway(unsafe), stopGateway(safe)]);
}, 60_000);

describe('portcullis doctor --url against npm run dev', () => {
  it('an unsafe deployment: setup open and a dangerous flag, then what its workspace holds', async () => {
    const gw = unsafe as Gateway;
    const before = doctor(['--url', gw.url, '--json']);
    expect(before.code).toBe(1);
    const beforeReport = JSON.parse(before.stdout) as Report;
    expect(pairs(beforeReport)).toEqual(['live.health.dangerous critical', 'live.setup.open_local high']);
    expect(beforeReport.findings.find((f) => f.id === 'live.health.dangerous')?.seen).toContain('DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS');
    expect(beforeReport.notRun).toEqual([]);

    const key = await ownerKey(gw, ['admin', 'agents:read', 'agents:write', 'credentials:write', 'audit:read']);
    const bearer = { Authorization: `Bearer ${key}` };
    const agent = await api(gw, 'POST', '/api/v1/agents', { name: 'wide open', isolation: 'unrestricted' }, bearer);
    expect(agent.status).toBe(201);
    const agentId = String(agent.json.id);
    const manifest = {
      name: 'risky',
      version: '1.0.0',
      tools: [
        { name: 'shell', capabilities: ['exec:spawn:bash'] },
        { name: 'fetch_any', capabilities: ['net:connect:*:443'] },
      ],
    };
    const tools = await api(gw, 'POST', `/api/v1/agents/${agentId}/tools`, { manifest }, bearer);
    expect(tools.status, JSON.stringify(tools.json)).toBe(201);
    const credential = await api(gw, 'PUT', '/api/v1/credentials/GITHUB_TOKEN', { value: 'ghp_doctortestvalue0123456789' }, bearer);
    expect([200, 201]).toContain(credential.status);

    const after = doctor(['--url', gw.url, '--json'], { PORTCULLIS_API_KEY: key });
    expect(after.code, after.stderr).toBe(1);
    const report = JSON.parse(after.stdout) as Report;
    expect(pairs(report)).toEqual([
      'api.agent.unrestricted high',
      'api.credential.unbound high',
      'api.key.no_expiry medium',
      'api.tool.net_any_without_approval high',
      'api.tool.shell_without_approval high',
      'live.health.dangerous critical',
    ]);
    expect(report.notRun).toEqual([]);
    expect(report.findings.find((f) => f.id === 'api.agent.unrestricted')?.seen).toContain(agentId);
    expect(report.findings.find((f) => f.id === 'api.tool.shell_without_approval')?.seen).toContain('"shell"');
    // What was seen never carries a secret: not the credential's value, not the API key.
    expect(after.stdout).not.toContain('ghp_doctortestvalue');
    expect(after.stdout).not.toContain(key);
    expect(after.stderr).toBe('');
  }, 120_000);

  it('a safe deployment: no finding above info, exit 0; a key without agents:read makes exit 3 naming the checks', async () => {
    const gw = safe as Gateway;
    const key = await ownerKey(gw, ['admin', 'agents:read', 'agents:write', 'credentials:write', 'audit:read'], 30);
    const bearer = { Authorization: `Bearer ${key}` };
    const agent = await api(gw, 'POST', '/api/v1/agents', { name: 'careful', isolation: 'sandbox' }, bearer);
    expect(agent.status).toBe(201);
    const manifest = {
      name: 'careful',
      version: '1.0.0',
      tools: [
        { name: 'shell', capabilities: ['exec:spawn:bash'] },
        { name: 'github', capabilities: ['net:connect:api.github.com:443'] },
      ],
    };
    const tools = await api(
      gw,
      'POST',
      `/api/v1/agents/${String(agent.json.id)}/tools`,
      { manifest, tools: { shell: { approval: 'always' } } },
      bearer,
    );
    expect(tools.status, JSON.stringify(tools.json)).toBe(201);
    const credential = await api(
      gw,
      'PUT',
      '/api/v1/credentials/GITHUB_TOKEN',
      { value: 'ghp_doctortestvalue0123456789', allowedHosts: ['api.github.com'] },
      bearer,
    );
    expect([200, 201]).toContain(credential.status);

    const clean = doctor(['--url', gw.url, '--json'], { PORTCULLIS_API_KEY: key });
    const report = JSON.parse(clean.stdout) as Report;
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(report.notRun).toEqual([]);
    expect(clean.code).toBe(0);

    const auditOnly = await ownerKey(gw, ['audit:read'], 30);
    const partial = doctor(['--url', gw.url, '--json'], { PORTCULLIS_API_KEY: auditOnly });
    expect(partial.code).toBe(3);
    const partialReport = JSON.parse(partial.stdout) as Report;
    expect(partialReport.notRun.map((n) => n.check).sort()).toEqual(['api.agents', 'api.credentials', 'api.owners']);
    expect(partialReport.notRun[0]?.reason).toContain('403');
  }, 120_000);
});
