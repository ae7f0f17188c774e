/**
 * Symlinks in the persistent workspace must not escape the local sandbox (security issue, item 1).
 * A tool plants `ln -sfn <host dir> /workspace/esc`; a later tool of the same agent declares
 * `fs:read,write:/workspace/esc/**`. Before the fix the runner (root) re-owned the link's target
 * and bwrap bind-mounted it. Every attempt here goes through the runner's signed HTTP surface
 * with real bubblewrap, and checks the host trees (content, mode, owner, mtime) before/after.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileManifest } from '../../../src/policy/index.ts';
import { compiledSandbox } from '../../../src/protocol/index.ts';
import { SANDBOX_UIDS, bwrapPrefix, makeScratch, snapshotTree, startRunner, waitFor, type TestRunner } from './helpers.ts';

const scratch = makeScratch();
let runner: TestRunner;
const hostDir = join(scratch.root, 'host');
const projectDir = join(scratch.root, 'project');
const devVars = join(projectDir, '.dev.vars');
const otherAgent = join(scratch.workspaceRoot, 'agent-other', 'workspace');
const SECRET = 'host-secret-that-must-never-leak';
const DEV_SECRET = 'VAULT_KEYS=local1:bXVzdC1uZXZlci1sZWFr';
const OTHER_SECRET = 'other-agents-note';

function watched(): Record<string, string> {
  return { ...snapshotTree(hostDir), ...snapshotTree(projectDir), ...snapshotTree(otherAgent) };
}

function agentDirs(agent: string) {
  return { workspace: join(scratch.workspaceRoot, agent, 'workspace'), privateRoot: join(scratch.workspaceRoot, agent, 'paths') };
}

/** Runs a command as the agent's tool with its workspace bound read-write (how the link is planted). */
function plant(agent: string, script: string) {
  const { workspace } = agentDirs(agent);
  return runner.post({
    tool: 'planter',
    argv: ['sh', '-c', script],
    env: {},
    timeoutMs: 10_000,
    outputLimitBytes: 65_536,
    sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'rw' }) },
  });
}

/** The attacking call: the workspace read-only plus one declared bind of a path under it. */
function attack(agent: string, mode: 'rw' | 'ro', source: string, script: string) {
  const { workspace } = agentDirs(agent);
  return runner.post({
    tool: 'reader',
    argv: ['sh', '-c', script],
    env: {},
    timeoutMs: 10_000,
    outputLimitBytes: 65_536,
    sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'ro', binds: [[mode, source, '/workspace/esc']] }) },
  });
}

/**
 * What the gateway sends for a tool declaring `fs:read,write:/workspace/esc/**` (policy compiler,
 * bwrap target, mapped by compiledSandbox): only <workspace>/esc is bound, at /workspace/esc.
 */
function compiledEscTool(agent: string) {
  const manifest = {
    name: 'attacker',
    version: '1.0.0',
    tools: [
      {
        name: 'esc',
        description: 'x',
        capabilities: ['fs:read,write:/workspace/esc/**', 'exec:spawn:sh'],
        run: { argv: ['sh', '-c', 'true'] },
      },
    ],
  };
  const compiled = compileManifest(manifest, { target: 'bwrap', tool: 'esc' });
  if (!compiled.ok) throw new Error(compiled.error.code);
  const mapped = compiledSandbox(compiled.artifact, ['sh'], agentDirs(agent));
  if (!mapped.ok) throw new Error(mapped.reason);
  expect(mapped.value.sandbox.bwrapArgv).toContain(join(agentDirs(agent).workspace, 'esc')); // the bind the attack needs
  return mapped.value;
}

const PROBE = `ls -la /workspace/esc/ 2>&1; cat /workspace/esc/secret.txt /workspace/esc /workspace/esc/note.txt 2>&1; echo pwned > /workspace/esc/pwned; mkdir /workspace/esc/made; echo done`;

beforeAll(async () => {
  runner = await startRunner({ workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UIDS.symlinks });
  mkdirSync(join(hostDir, 'sub'), { recursive: true, mode: 0o755 });
  writeFileSync(join(hostDir, 'secret.txt'), `${SECRET}\n`, { mode: 0o644 });
  writeFileSync(join(hostDir, 'sub', 'secret.txt'), `${SECRET}\n`, { mode: 0o644 });
  mkdirSync(projectDir, { mode: 0o755 });
  writeFileSync(devVars, `${DEV_SECRET}\n`, { mode: 0o644 });
  mkdirSync(otherAgent, { recursive: true, mode: 0o755 });
  writeFileSync(join(otherAgent, 'note.txt'), `${OTHER_SECRET}\n`, { mode: 0o644 });
});

afterAll(async () => {
  await runner.close();
  scratch.cleanup();
});

function expectNoLeak(json: { stdout?: string; stderr?: string }) {
  for (const secret of [SECRET, 'VAULT_KEYS', OTHER_SECRET]) {
    expect(json.stdout ?? '').not.toContain(secret);
    expect(json.stderr ?? '').not.toContain(secret);
  }
}

describe('workspace symlinks cannot escape the local sandbox', { timeout: 120_000 }, () => {
  it('the reported attack: ln -sfn <host dir> /workspace/esc, then a compiled fs:read,write:/workspace/esc/** tool → 403, host dir not mounted, written or re-owned', async () => {
    const agent = 'agent-reported';
    const planted = await plant(agent, `ln -sfn ${hostDir} /workspace/esc && echo planted`);
    expect(planted.json.stdout).toBe('planted\n'); // the first tool really planted the link
    const mapped = compiledEscTool(agent);
    const before = watched();
    const { status, json } = await runner.post({
      tool: 'esc',
      argv: ['sh', '-c', PROBE],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      ...mapped,
    });
    expect(status).toBe(403);
    expect(json.error?.code).toBe('POLICY_DENIED');
    expectNoLeak(json);
    expect(watched()).toEqual(before);
    expect(existsSync(join(hostDir, 'pwned'))).toBe(false);
  });

  // [name, where the tool plants the link (relative to its workspace), its target, the bind source (relative), mode]
  const cases: Array<[string, string, string, string, 'rw' | 'ro']> = [
    ['last component, writable bind', 'esc', hostDir, 'esc', 'rw'],
    ['last component, read-only bind', 'esc', hostDir, 'esc', 'ro'],
    ['middle component (missing dirs below it would be created on the host)', 'mid', hostDir, 'mid/sub/new/deeper', 'rw'],
    ['middle component, read-only', 'mid', hostDir, 'mid/sub', 'ro'],
    ['a dangling link (its target would be created)', 'dangling', join(hostDir, 'created-by-runner'), 'dangling', 'rw'],
    ['a dangling middle component', 'dangling2', join(hostDir, 'created-too'), 'dangling2/x', 'ro'],
    ['a link to /', 'rootlink', '/', 'rootlink', 'ro'],
    ["a link to another agent's workspace", 'other', otherAgent, 'other', 'ro'],
    ['a link to the project .dev.vars', 'dv', devVars, 'dv', 'ro'],
    ['a link to the project .dev.vars, writable', 'dv', devVars, 'dv', 'rw'],
    ['a relative link climbing out (../../..)', 'rel', '../../../host', 'rel', 'rw'],
  ];
  it.each(cases)('refuses a symlink at %s: 403, nothing on the host read, written or re-owned', async (_name, at, target, source, mode) => {
    const agent = `agent-${at}-${mode}-${Math.random().toString(36).slice(2, 8)}`;
    const planted = await plant(agent, `mkdir -p "$(dirname /workspace/${at})" && ln -sfn '${target}' /workspace/${at} && echo planted`);
    expect(planted.json.stdout).toBe('planted\n');
    const before = watched();
    const { status, json } = await attack(agent, mode, join(agentDirs(agent).workspace, source), PROBE);
    expect(status).toBe(403);
    expect(json.error?.code).toBe('POLICY_DENIED');
    expectNoLeak(json);
    expect(watched()).toEqual(before);
    expect(existsSync(join(hostDir, 'created-by-runner'))).toBe(false);
    expect(existsSync(join(hostDir, 'created-too'))).toBe(false);
  });

  it('refuses a symlink at the agent directory and at the workspace component itself', async () => {
    for (const [name, link] of [
      ['agent-dir', join(scratch.workspaceRoot, 'agent-linked')],
      ['workspace', join(scratch.workspaceRoot, 'agent-wslink', 'workspace')],
    ] as const) {
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(hostDir, link);
      const before = watched();
      const source = name === 'agent-dir' ? join(link, 'workspace') : link;
      const { status } = await runner.post({
        tool: 't',
        argv: ['sh', '-c', PROBE],
        env: {},
        timeoutMs: 10_000,
        outputLimitBytes: 65_536,
        sandbox: { bwrapArgv: bwrapPrefix({ workspace: source, workspaceMode: 'rw' }) },
      });
      expect(status).toBe(403);
      expect(watched()).toEqual(before);
    }
  });

  it('still binds a real directory under the workspace, read-write, owned by the sandbox uid', async () => {
    const agent = 'agent-legit';
    await plant(agent, 'mkdir -p /workspace/esc && echo inside > /workspace/esc/note.txt');
    const { status, json } = await attack(
      agent,
      'rw',
      join(agentDirs(agent).workspace, 'esc'),
      'cat /workspace/esc/note.txt && echo more > /workspace/esc/more && stat -c %u /workspace/esc',
    );
    expect(status).toBe(200);
    expect(json.stdout).toBe(`inside\n${SANDBOX_UIDS.symlinks}\n`);
    expect(existsSync(join(agentDirs(agent).workspace, 'esc', 'more'))).toBe(true);
  });

  it('the pinned fds do not reach the tool: nothing is written through /proc/self/fd/N past a read-only bind', async () => {
    const agent = 'agent-fds';
    await plant(agent, 'mkdir -p /workspace/esc && echo inside > /workspace/esc/note.txt');
    const { status, json } = await attack(
      agent,
      'ro',
      join(agentDirs(agent).workspace, 'esc'),
      'for n in $(seq 3 40); do echo x > /proc/self/fd/$n/pwned 2>/dev/null && echo wrote $n; done; cat /workspace/esc/note.txt',
    );
    expect(status).toBe(200);
    expect(json.stdout).toBe('inside\n'); // it ran, with its read-only binds, and wrote nowhere
    expect(existsSync(join(agentDirs(agent).workspace, 'pwned'))).toBe(false);
    expect(existsSync(join(agentDirs(agent).workspace, 'esc', 'pwned'))).toBe(false);
  });

  it('a rename loop swapping a real directory and a symlink racing the invocations never wins', async () => {
    const agent = 'agent-race';
    const ws = agentDirs(agent).workspace;
    await plant(agent, `mkdir -p /workspace/real && echo inside > /workspace/real/note.txt && ln -sfn ${hostDir} /workspace/link`);
    const before = watched();
    // The racer is its own process (the runner pins paths synchronously in this one): rename(2)
    // is atomic, so /workspace/esc is, at every instant, the real directory, the link, or absent.
    const racer = spawn(
      process.execPath,
      [
        '-e',
        `
      const fs = require('fs'); const p = (n) => ${JSON.stringify(ws)} + '/' + n;
      for (;;) { for (const [a, b] of [['real', 'esc'], ['esc', 'real'], ['link', 'esc'], ['esc', 'link']]) { try { fs.renameSync(p(a), p(b)); } catch {} } }
    `,
      ],
      { stdio: 'ignore' },
    );
    try {
      // The loop really runs: the real directory has left its name at least once.
      expect(await waitFor(() => !existsSync(join(ws, 'real')), 10_000)).toBe(true);
      for (let i = 0; i < 20; i++) {
        const argv = ['sh', '-c', `cat /workspace/esc/note.txt /workspace/esc/secret.txt 2>&1; touch /workspace/esc/touched # call ${i}`]; // distinct bodies: not replays
        const { status, json } = await runner.post({
          tool: 'esc',
          argv,
          env: {},
          timeoutMs: 10_000,
          outputLimitBytes: 65_536,
          ...compiledEscTool(agent),
        });
        expect([200, 403]).toContain(status);
        expectNoLeak(json);
      }
    } finally {
      racer.kill('SIGKILL');
    }
    expect(await waitFor(() => racer.exitCode !== null || racer.signalCode !== null, 10_000)).toBe(true);
    expect(watched()).toEqual(before);
    expect(existsSync(join(hostDir, 'touched'))).toBe(false);
  });
});
