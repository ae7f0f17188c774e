/**
 * The other half of "unrestricted is still sandboxed": test/workers/tools-invoke.test.ts shows
 * that with DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS an `unrestricted` agent's `cat` call reaches the
 * runner with exactly the argv in test/fixtures/tools/cat-bwrap-argv.json. Here that argv goes
 * through the real runner's signed API and real bwrap: the call reads its own workspace and
 * nothing of the host, whatever path the agent asks for. Needs Linux, root and bwrap.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratch, startRunner, type TestRunner } from '../../containers/runner/test/helpers.ts';
import fixture from '../fixtures/tools/cat-bwrap-argv.json' with { type: 'json' };

/** A uid of its own (see SANDBOX_UIDS in the runner's test helpers: RLIMIT_NPROC is per uid). */
const SANDBOX_UID = 61090;
const AGENT_ID = 'agt_unrestricted00000000000000000000';

let scratch: ReturnType<typeof makeScratch>;
let runner: TestRunner;
let bwrapArgv: string[];

beforeAll(async () => {
  scratch = makeScratch();
  const workspace = join(scratch.workspaceRoot, AGENT_ID, 'workspace');
  mkdirSync(workspace, { recursive: true, mode: 0o755 });
  chmodSync(join(scratch.workspaceRoot, AGENT_ID), 0o755);
  writeFileSync(join(workspace, 'a'), 'inside the workspace\n', { mode: 0o644 });
  bwrapArgv = fixture.argv.map((arg) => (arg === '{agentWorkspace}' ? workspace : arg));
  runner = await startRunner({ workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UID });
});

afterAll(async () => {
  await runner?.close();
  scratch?.cleanup();
});

const cat = (path: string) =>
  runner.post({ tool: 'cat', argv: ['cat', path], env: {}, timeoutMs: 10_000, outputLimitBytes: 65_536, sandbox: { bwrapArgv } });

describe("an unrestricted agent's call, as the Worker sends it, under real bwrap", () => {
  it('the fixture is the compiled shape: network unshared, environment cleared, root read-only, one host directory', () => {
    expect(fixture.argv).toHaveLength(61);
    expect(bwrapArgv.filter((arg) => arg === '{agentWorkspace}')).toEqual([]);
    expect(fixture.argv.filter((arg) => arg === '--unshare-net' || arg === '--clearenv' || arg === '--remount-ro')).toEqual([
      '--unshare-net',
      '--clearenv',
      '--remount-ro',
    ]);
  });

  it('reads its own workspace', async () => {
    const { status, json } = await cat('/workspace/a');
    expect(status).toBe(200);
    expect(json).toMatchObject({ exitCode: 0, stdout: 'inside the workspace\n', stopReason: 'exit' });
  });

  it.each([['/etc/shadow'], ['/etc/hostname'], ['/root/.bashrc'], [`${'/..'.repeat(8)}/etc/passwd`]])(
    'cannot read the host file %s: it does not exist in the sandbox',
    async (path) => {
      const { status, json } = await cat(path);
      expect(status).toBe(200);
      expect(json.exitCode).toBe(1);
      expect(json.stdout).toBe('');
      expect(json.stderr).toContain('No such file or directory');
    },
  );

  it("cannot read another agent's workspace by its host path, nor climb out of its own", async () => {
    const other = join(scratch.workspaceRoot, 'agt_other', 'workspace');
    mkdirSync(other, { recursive: true, mode: 0o755 });
    writeFileSync(join(other, 'secret'), 'not yours\n', { mode: 0o644 });
    for (const path of [join(other, 'secret'), '/workspace/../agt_other/workspace/secret', '/workspace/../../agt_other/workspace/secret']) {
      const { json } = await cat(path);
      expect(json.exitCode, path).toBe(1);
      expect(json.stdout, path).toBe('');
      expect(json.stderr, path).toContain('No such file or directory');
    }
  });
});
