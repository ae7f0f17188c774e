/**
 * The runner takes its sandbox from the policy compiler: every tool of every golden manifest,
 * compiled per tool for the `bwrap` target, turned into an invocation by compiled-sandbox.ts,
 * is accepted by the runner's prefix check and runs a command under bubblewrap.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Artifact, compileManifest, type Manifest } from '../../../src/policy/index.ts';
import { compiledSandbox, hostSourceFor } from '../../../src/protocol/index.ts';
import { checkBwrapPrefix } from '../src/sandbox.ts';
import { SANDBOX_UIDS, makeScratch, startRunner, type TestRunner } from './helpers.ts';

const GOLDENS = join(import.meta.dirname, '../../../test/fixtures/goldens');
const scratch = makeScratch();
let runner: TestRunner;

interface ToolCase {
  server: string;
  tool: string;
  command: string[];
  artifact: Artifact;
}

function toolCases(): ToolCase[] {
  const cases: ToolCase[] = [];
  for (const server of readdirSync(GOLDENS).sort()) {
    const manifest = JSON.parse(readFileSync(join(GOLDENS, server, 'manifest.json'), 'utf8')) as Manifest;
    for (const tool of manifest.tools) {
      const compiled = compileManifest(manifest, { target: 'bwrap', tool: tool.name });
      if (!compiled.ok) throw new Error(`${server}/${tool.name}: ${compiled.error.code}`);
      const command = tool.run && 'argv' in tool.run ? tool.run.argv : (tool.run?.mcp.command ?? []);
      cases.push({ server, tool: tool.name, command, artifact: compiled.artifact });
    }
  }
  return cases;
}

const CASES = toolCases();
const agentDirs = (agent: string) => ({
  workspace: join(scratch.workspaceRoot, agent, 'workspace'),
  privateRoot: join(scratch.workspaceRoot, agent, 'paths'),
});

beforeAll(async () => {
  runner = await startRunner({ workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UIDS.compiled });
});

afterAll(async () => {
  await runner.close();
  scratch.cleanup();
});

describe('compiled bwrap artifacts → runner invocations', () => {
  it('covers every golden server, filesystem and fetch included', () => {
    const servers = new Set(CASES.map((c) => c.server));
    expect(servers.size).toBe(readdirSync(GOLDENS).length);
    expect(servers).toContain('filesystem');
    expect(servers).toContain('fetch');
  });

  it.each(CASES.map((c) => [`${c.server}/${c.tool}`, c] as const))(
    '%s: the runner accepts the prefix; binds point into the agent directories; egress is the compiled allow list',
    (_, c) => {
      const result = compiledSandbox(c.artifact, c.command, agentDirs('agent-a'));
      if (!result.ok) throw new Error(result.reason);
      const argv = result.value.sandbox.bwrapArgv;
      expect(checkBwrapPrefix(argv, scratch.workspaceRoot)).toBeNull();
      expect(argv.at(-1)).toBe('--');
      for (let i = 0; i < argv.length; i++) {
        if (argv[i] !== '--bind' && argv[i] !== '--ro-bind') continue;
        expect(argv[i + 1]?.startsWith(join(scratch.workspaceRoot, 'agent-a') + '/')).toBe(true); // no host path of the same name
        i += 2;
      }
      expect(result.value.egress?.allow ?? []).toEqual(c.artifact.egress.allow);
      if (c.artifact.egress.allow.length === 0) expect(result.value.egress).toBeUndefined();
    },
  );

  // Every tool of the filesystem and fetch servers, and the first tool of each other server.
  const runCases = CASES.filter(
    (c, i) => c.server === 'filesystem' || c.server === 'fetch' || CASES.findIndex((o) => o.server === c.server) === i,
  );
  it.each(runCases.map((c) => [`${c.server}/${c.tool}`, c] as const))(
    '%s: runs `true` under the compiled sandbox',
    { timeout: 30_000 },
    async (_, c) => {
      const result = compiledSandbox(c.artifact, c.command, agentDirs(`agent-${c.server}`));
      if (!result.ok) throw new Error(result.reason);
      const { status, json } = await runner.post({
        tool: c.tool,
        argv: ['true'],
        env: {},
        timeoutMs: 20_000,
        outputLimitBytes: 65_536,
        ...result.value,
      });
      expect(status).toBe(200);
      expect(json).toMatchObject({ exitCode: 0, stopReason: 'exit', stderr: '' });
    },
  );

  it('a filesystem read tool sees its workspace read-only, and nothing of the host', async () => {
    const c = CASES.find((x) => x.server === 'filesystem' && x.tool === 'read_text_file');
    if (!c) throw new Error('read_text_file missing from the golden');
    const dirs = agentDirs('agent-reader');
    const result = compiledSandbox(c.artifact, c.command, dirs);
    if (!result.ok) throw new Error(result.reason);
    await runner.post({
      tool: c.tool,
      argv: ['cat', '--', '/workspace/none'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      ...result.value,
    });
    writeFileSync(join(dirs.workspace, 'note.txt'), 'workspace note\n');
    const read = await runner.post({
      tool: c.tool,
      argv: ['cat', '--', 'note.txt'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      ...result.value,
    });
    expect(read.json).toMatchObject({ exitCode: 0, stdout: 'workspace note\n' });
    // Not declared (exec:spawn:cat only), but the sandbox must hold even if the gateway erred.
    const write = await runner.post({
      tool: c.tool,
      argv: ['sh', '-c', 'echo x > /workspace/new.txt; echo y > /new.txt; cat /etc/shadow /etc/passwd'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      ...result.value,
    });
    expect(write.json.exitCode).not.toBe(0);
    expect(write.json.stderr).toContain('Read-only file system');
    expect(write.json.stderr).toContain('/etc/shadow: No such file or directory');
    expect(write.json.stdout).toBe('');
    expect(existsSync(join(dirs.workspace, 'new.txt'))).toBe(false);
  });
});

describe('the runner refuses writable host binds outside its workspace root (rule 6)', () => {
  it('refuses a compiled artifact sent without the mapping (`--bind /workspace /workspace`), 403 and nothing runs', async () => {
    const c = CASES.find((x) => x.server === 'filesystem' && x.tool === 'write_file');
    if (!c?.artifact.argv) throw new Error('write_file missing from the golden');
    expect(c.artifact.argv.join(' ')).toContain('--bind /workspace /workspace');
    const { status, json } = await runner.post({
      tool: c.tool,
      argv: ['sh', '-c', 'echo pwned > /workspace/marker'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      sandbox: { bwrapArgv: c.artifact.argv },
    });
    expect(status).toBe(403);
    expect(json.error?.code).toBe('POLICY_DENIED');
    expect(existsSync('/workspace/marker')).toBe(false);
  });

  it('refuses a writable bind of a host directory next to the workspace root, and writes nothing there', async () => {
    const outside = join(scratch.root, 'outside');
    mkdirSync(outside, { mode: 0o777 });
    const c = CASES.find((x) => x.server === 'filesystem' && x.tool === 'write_file');
    const mapped = c && compiledSandbox(c.artifact, c.command, agentDirs('agent-outside'));
    if (!mapped?.ok) throw new Error('mapping failed');
    const argv = mapped.value.sandbox.bwrapArgv.map((part) => (part === agentDirs('agent-outside').workspace ? outside : part));
    expect(argv).toContain(outside);
    const { status } = await runner.post({
      tool: 'write_file',
      argv: ['sh', '-c', 'echo pwned > /workspace/marker'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      sandbox: { bwrapArgv: argv },
    });
    expect(status).toBe(403);
    expect(readdirSync(outside)).toEqual([]);
    expect(checkBwrapPrefix(argv, scratch.workspaceRoot)).toBe('writable-bind-outside-workspace-root');
    expect(checkBwrapPrefix(mapped.value.sandbox.bwrapArgv, scratch.workspaceRoot)).toBeNull();
  });
});

describe('compiledSandbox refusals and path mapping', () => {
  const fsCase = CASES.find((c) => c.server === 'filesystem' && c.tool === 'read_text_file');
  it('refuses a command whose argv[0] the tool did not declare (exec:spawn)', () => {
    if (!fsCase) throw new Error('missing');
    expect(compiledSandbox(fsCase.artifact, ['sh', '-c', 'cat /etc/shadow'], agentDirs('x'))).toEqual({
      ok: false,
      reason: 'undeclared-exec',
    });
    expect(compiledSandbox(fsCase.artifact, [], agentDirs('x'))).toEqual({ ok: false, reason: 'undeclared-exec' });
  });

  it('refuses an artifact of another target', () => {
    const manifest = JSON.parse(readFileSync(join(GOLDENS, 'filesystem', 'manifest.json'), 'utf8')) as unknown;
    const docker = compileManifest(manifest, { target: 'docker', tool: 'read_text_file' });
    if (!docker.ok) throw new Error(docker.error.code);
    expect(compiledSandbox(docker.artifact, ['cat'], agentDirs('x'))).toEqual({ ok: false, reason: 'not-bwrap-artifact' });
  });

  it('maps /workspace into the workspace and every other declared path into the private root, never the host path', () => {
    const dirs = { workspace: '/srv/ws/a1/workspace', privateRoot: '/srv/ws/a1/paths' };
    expect(hostSourceFor('/workspace', dirs)).toBe('/srv/ws/a1/workspace');
    expect(hostSourceFor('/workspace/repo', dirs)).toBe('/srv/ws/a1/workspace/repo');
    expect(hostSourceFor('/workspacex', dirs)).toBe('/srv/ws/a1/paths/workspacex');
    expect(hostSourceFor('/var/lib/portcullis-memory', dirs)).toBe('/srv/ws/a1/paths/var/lib/portcullis-memory');
    expect(hostSourceFor('/etc', dirs)).toBe('/srv/ws/a1/paths/etc');
  });
});
