/**
 * End to end, as `npm run dev` runs it: the bundled runner (dist/runner.mjs, built by
 * `npm run build`, which `test:node` runs first) as its own process on a free loopback port,
 * a real manifest tool compiled to the `bwrap` target, requests signed exactly as the Worker
 * signs them (signing.ts). The runner's log lines show what it ran and what it refused.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileManifest } from '../../../src/policy/index.ts';
import { compiledSandbox } from '../../../src/protocol/index.ts';
import { importRunnerKey, type RunnerKey, signRunnerRequest } from '../../../src/protocol/index.ts';
import { SANDBOX_UIDS, TEST_SECRET, makeScratch, waitFor } from './helpers.ts';

const BUNDLE = join(import.meta.dirname, '../../../dist/runner.mjs');
const MANIFEST = {
  name: 'e2e-files',
  version: '1.0.0',
  tools: [
    {
      name: 'cat',
      description: 'Print a workspace file',
      capabilities: ['exec:spawn:cat', 'fs:read:/workspace/**'],
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
      run: { argv: ['cat', '{path}'] },
    },
  ],
};
const HOST_SECRET = 'VAULT_KEYS=local1:ZTJlLXNlY3JldC10aGF0LW11c3QtbmV2ZXItbGVhaw==';

const scratch = makeScratch();
const workspace = join(scratch.workspaceRoot, 'agent-e2e', 'workspace');
const privateRoot = join(scratch.workspaceRoot, 'agent-e2e', 'paths');
const project = join(scratch.root, 'project'); // stands for the checkout holding .dev.vars
let runner: ChildProcess;
let url = '';
let key: RunnerKey;
const logLines: Array<Record<string, unknown>> = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The invocation the gateway would send for `cat` with these arguments. */
function catInvocation(path: string): Record<string, unknown> {
  const compiled = compileManifest(MANIFEST, { target: 'bwrap', tool: 'cat' });
  if (!compiled.ok) throw new Error(compiled.error.code);
  const argv = MANIFEST.tools[0]!.run.argv.map((part) => (part === '{path}' ? path : part)); // one element per argument, no shell
  const sandbox = compiledSandbox(compiled.artifact, argv, { workspace, privateRoot });
  if (!sandbox.ok) throw new Error(sandbox.reason);
  return { tool: 'cat', argv, env: {}, timeoutMs: 10_000, outputLimitBytes: 65_536, ...sandbox.value };
}

async function post(body: unknown, sign = true): Promise<{ status: number; json: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (sign)
    Object.assign(
      headers,
      await signRunnerRequest(key, { method: 'POST', path: '/invocations', body: text, nowS: Math.floor(Date.now() / 1000) }),
    );
  const res = await fetch(`${url}/invocations`, { method: 'POST', headers, body: text });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  if (!existsSync(BUNDLE)) throw new Error('dist/runner.mjs is missing: run `npm run build` (test:node does)');
  key = await importRunnerKey(TEST_SECRET);
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'notes.txt'), 'permitted workspace content\n', { mode: 0o644 });
  mkdirSync(project, { mode: 0o755 });
  writeFileSync(join(project, '.dev.vars'), `${HOST_SECRET}\n`, { mode: 0o644 });
  symlinkSync(join(project, '.dev.vars'), join(workspace, 'dev-vars-link'));
  const port = await freePort();
  runner = spawn(process.execPath, [BUNDLE], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      RUNNER_SECRET: TEST_SECRET,
      RUNNER_HOST: '127.0.0.1',
      RUNNER_PORT: String(port),
      RUNNER_WORK_DIR: scratch.workDir,
      RUNNER_WORKSPACE_ROOT: scratch.workspaceRoot,
      RUNNER_SANDBOX_UID: String(SANDBOX_UIDS.e2e),
      RUNNER_SANDBOX_GID: String(SANDBOX_UIDS.e2e),
      RUNNER_MAX_PROCESSES: '64',
    },
  });
  let buffered = '';
  runner.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  url = `http://127.0.0.1:${port}`;
  // Polled with a generous deadline: a loaded machine may take a while to start Node twice.
  let up = false;
  const until = Date.now() + 50_000;
  while (!up && Date.now() < until) {
    up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) throw new Error('the bundled runner did not start');
}, 60_000);

afterAll(async () => {
  if (runner.exitCode === null) {
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    runner.kill('SIGTERM');
    await exited;
  }
  scratch.cleanup();
});

const invocations = () => logLines.filter((l) => l.event === 'runner.invocation');

describe('bundled runner, compiled `cat` tool, signed like the Worker', { timeout: 30_000 }, () => {
  it('keeps no secret in its environment after start: /proc/<pid>/environ has neither the secret nor a readable secret file', async () => {
    const environ = readFileSync(`/proc/${runner.pid}/environ`, 'utf8').split('\0');
    expect(environ.join('\n')).not.toContain(TEST_SECRET);
    expect(environ.some((entry) => entry.startsWith('RUNNER_SECRET='))).toBe(false);
    const file = environ.find((entry) => entry.startsWith('RUNNER_SECRET_FILE='))?.slice('RUNNER_SECRET_FILE='.length);
    expect(file).toBeDefined(); // it did re-execute (same pid, new environment block)…
    expect(existsSync(file ?? '')).toBe(false); // …and deleted the file after reading it
    expect((await post({ ...catInvocation('notes.txt'), env: { N: 'environ' } })).status).toBe(200); // and still has the key
  });

  it('answers its health check without a signature, saying only ok and the isolation', async () => {
    const res = await fetch(`${url}/healthz`);
    expect(await res.json()).toEqual({ ok: true, isolation: 'bwrap' });
  });

  it('runs the permitted read of a workspace file', async () => {
    const { status, json } = await post(catInvocation('notes.txt'));
    expect(status).toBe(200);
    expect(json).toMatchObject({ exitCode: 0, stdout: 'permitted workspace content\n', stopReason: 'exit', truncated: false });
  });

  it('cannot read /etc/shadow: the host /etc is not in the sandbox', async () => {
    const { status, json } = await post(catInvocation('/etc/shadow'));
    expect(status).toBe(200);
    expect(json.exitCode).not.toBe(0);
    expect(json.stdout).toBe('');
    expect(json.stderr).toContain('/etc/shadow: No such file or directory');
  });

  it('cannot read a planted .dev.vars outside /workspace, by host path, by traversal or through a symlink', async () => {
    for (const path of [join(project, '.dev.vars'), '../project/.dev.vars', '/workspace/../../project/.dev.vars', 'dev-vars-link']) {
      const { status, json } = await post(catInvocation(path));
      expect(status).toBe(200);
      expect(json.exitCode).not.toBe(0);
      expect(json.stdout).toBe('');
      expect(String(json.stderr)).not.toContain('VAULT_KEYS');
      expect(json.stderr).toContain('No such file or directory');
    }
  });

  it('refuses an unsigned request with 401 and runs nothing', async () => {
    const before = invocations().length;
    const { status, json } = await post(catInvocation('notes.txt'), false);
    expect(status).toBe(401);
    expect(json).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect(JSON.stringify(json)).not.toContain('permitted workspace content');
    await waitFor(() => logLines.some((l) => l.event === 'runner.auth_failed' && l.reason === 'missing'));
    expect(logLines.some((l) => l.event === 'runner.auth_failed' && l.reason === 'missing')).toBe(true);
    expect(invocations().length).toBe(before);
  });

  it('refuses a request signed with another secret with 401 and runs nothing', async () => {
    const before = invocations().length;
    const text = JSON.stringify(catInvocation('notes.txt'));
    const forged = await signRunnerRequest(await importRunnerKey('another-secret-0123456789abcdef-0123456789'), {
      method: 'POST',
      path: '/invocations',
      body: text,
      nowS: Math.floor(Date.now() / 1000),
    });
    const res = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forged },
      body: text,
    });
    expect(res.status).toBe(401);
    expect(invocations().length).toBe(before);
  });
});
