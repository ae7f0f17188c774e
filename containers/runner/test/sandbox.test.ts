/**
 * Local sandbox, through the runner's HTTP surface, with real commands under bubblewrap.
 * CI installs bubblewrap (.ci/run); these tests are never skipped.
 */
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_UIDS,
  bwrapPrefix,
  makeScratch,
  processesOfUid,
  processesWith,
  sampleUidDuring,
  startRunner,
  waitFor,
  type TestRunner,
} from './helpers.ts';

const SANDBOX_UID = SANDBOX_UIDS.sandbox;
const scratch = makeScratch();
let runner: TestRunner;
let hostTcp: Server;
let hostTcpConnections = 0;
let hostTcpPort = 0;
const secretsDir = join(scratch.root, 'project');
const devVars = join(secretsDir, '.dev.vars');

function call(workspace: string, argv: string[], extra: Record<string, unknown> = {}, mode: 'rw' | 'ro' = 'rw') {
  return runner.post({
    tool: 't',
    argv,
    env: {},
    timeoutMs: 10_000,
    outputLimitBytes: 65_536,
    sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: mode }) },
    ...extra,
  });
}

beforeAll(async () => {
  runner = await startRunner({ workDir: scratch.workDir, workspaceRoot: scratch.workspaceRoot, uid: SANDBOX_UID });
  mkdirSync(secretsDir, { mode: 0o755 });
  writeFileSync(devVars, 'VAULT_KEYS=local1:c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1sZWFr\n', { mode: 0o644 });
  hostTcp = createServer((s) => {
    hostTcpConnections++;
    s.end('hello');
  });
  await new Promise<void>((r) => hostTcp.listen(0, '127.0.0.1', r));
  hostTcpPort = (hostTcp.address() as { port: number }).port;
});

afterAll(async () => {
  await runner.close();
  hostTcp.close();
  scratch.cleanup();
});

describe('local sandbox (bubblewrap)', { timeout: 60_000 }, () => {
  it('runs a permitted command in the agent workspace and returns its output', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-ok');
    const { status, json } = await call(ws, ['sh', '-c', 'echo hello > note.txt && cat note.txt && pwd && id -u && echo err >&2']);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      exitCode: 0,
      signal: null,
      stdout: `hello\n/workspace\n${SANDBOX_UID}\n`,
      stderr: 'err\n',
      truncated: false,
      stopReason: 'exit',
    });
    expect(existsSync(join(ws, 'note.txt'))).toBe(true); // the workspace persists between calls
  });

  it('passes stdin and the declared environment, nothing of the runner environment', async () => {
    process.env.RUNNER_TEST_LEAK = 'runner-env-must-not-leak';
    const ws = join(scratch.workspaceRoot, 'agent-env');
    const { json } = await call(ws, ['sh', '-c', 'cat; env'], { stdin: 'from-stdin\n', env: { TOOL_SETTING: 'x1' } });
    expect(json.stdout).toContain('from-stdin\n');
    expect(json.stdout).toContain('TOOL_SETTING=x1');
    expect(json.stdout).not.toContain('runner-env-must-not-leak');
    expect(json.stdout).not.toContain('RUNNER_');
  });

  it('accepts the shape the policy compiler emits (separate --unshare-*, --ro-bind-try, --disable-userns, trailing --)', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-compiled');
    mkdirSync(ws, { recursive: true });
    const compiledShape = [
      'bwrap',
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-net',
      '--unshare-cgroup-try',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
      '--setenv',
      'PATH',
      '/usr/local/bin:/usr/bin:/bin',
      '--setenv',
      'HOME',
      '/tmp',
      '--disable-userns',
      ...['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/etc/ld.so.cache', '/etc/ssl/certs'].flatMap((p) => [
        '--ro-bind-try',
        p,
        p,
      ]),
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--tmpfs',
      '/tmp',
      '--bind',
      ws,
      '/workspace',
      '--chdir',
      '/workspace',
      '--',
    ];
    const { json } = await runner.post({
      tool: 't',
      argv: ['sh', '-c', 'echo ok > f && cat f && cat /etc/shadow'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      sandbox: { bwrapArgv: compiledShape },
    });
    expect(json.stdout).toBe('ok\n');
    expect(json.stderr).toContain('/etc/shadow: No such file or directory');
  });

  it('argv elements are never interpreted by a shell', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-argv');
    const { json } = await call(ws, ['echo', '$(touch pwned); `touch pwned2` && touch pwned3']);
    expect(json.stdout).toBe('$(touch pwned); `touch pwned2` && touch pwned3\n');
    expect(readdirSync(ws)).toEqual([]);
  });

  it.each([
    ['the read-only /usr', 'touch /usr/pwned', '/usr/pwned'],
    ['the sandbox root', 'touch /pwned', '/pwned'],
    ['a host path outside the binds', `touch ${scratch.root}/pwned`, join(scratch.root, 'pwned')],
  ])('refuses writes to %s and nothing appears on the host', async (_name, script, hostPath) => {
    const ws = join(scratch.workspaceRoot, 'agent-write');
    const { json } = await call(ws, ['sh', '-c', script]);
    expect(json.exitCode).not.toBe(0);
    expect(existsSync(hostPath)).toBe(false);
  });

  it('refuses writes to a workspace declared read-only', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-ro');
    mkdirSync(ws, { recursive: true });
    const { json } = await call(ws, ['sh', '-c', 'echo x > /workspace/new.txt'], {}, 'ro');
    expect(json.exitCode).not.toBe(0);
    expect(json.stderr).toContain('Read-only file system');
    expect(readdirSync(ws)).toEqual([]);
  });

  it.each([
    ['/etc/shadow', '/etc/shadow'],
    ['the project .dev.vars by absolute path', devVars],
  ])('cannot read %s', async (_name, path) => {
    const ws = join(scratch.workspaceRoot, 'agent-read');
    const { json } = await call(ws, ['cat', path]);
    expect(json.exitCode).not.toBe(0);
    expect(json.stdout).toBe('');
    expect(json.stderr).toContain('No such file or directory');
  });

  it('cannot read a host secret through a symlink planted in the workspace', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-symlink');
    mkdirSync(ws, { recursive: true });
    symlinkSync(devVars, join(ws, 'innocent.txt'));
    const { json } = await call(ws, ['cat', 'innocent.txt']);
    expect(json.exitCode).not.toBe(0);
    expect(json.stdout).not.toContain('VAULT_KEYS');
  });

  it('has no network of its own: a direct TCP connection to a host service fails', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-tcp');
    const before = hostTcpConnections;
    const probe = `const net=require('net');let n=0;for(const h of ['127.0.0.1','10.0.2.2','1.1.1.1']){const s=net.connect(${hostTcpPort},h);s.on('connect',()=>{console.log('CONNECTED '+h);s.destroy()});s.on('error',e=>{console.log(h+' '+e.code);if(++n===3)process.exit(0)})}`;
    const { json } = await call(ws, ['node', '-e', probe]);
    expect(json.stdout).not.toContain('CONNECTED');
    expect(json.stdout).toContain('127.0.0.1 ECONNREFUSED'); // the sandbox's own loopback, not the host's
    expect(json.stdout).toContain('1.1.1.1 ENETUNREACH');
    expect(hostTcpConnections).toBe(before);
  });

  it('cuts infinite output at the cap and says so', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-yes');
    const { json } = await runner.post({
      tool: 't',
      argv: ['yes', 'spam'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 10_000,
      sandbox: { bwrapArgv: bwrapPrefix({ workspace: ws, workspaceMode: 'rw' }) },
    });
    expect(json.stopReason).toBe('output-limit');
    expect(json.truncated).toBe(true);
    expect(Buffer.byteLength(json.stdout ?? '')).toBe(10_000);
    expect(processesWith('spam')).toEqual([]);
  });

  it('kills the whole process group on timeout, including a child that ignores SIGTERM', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-timeout');
    const marker = `${Date.now() % 100000}7`;
    const script = `trap '' TERM; sh -c "trap '' TERM; sleep ${marker}" & sleep ${marker}1 & wait`;
    const pending = call(ws, ['sh', '-c', script], { timeoutMs: 15_000 });
    // Both sleepers really ran (so the check below can fail)…
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 2, 14_500)).toBe(true);
    const { json } = await pending;
    expect(json.stopReason).toBe('timeout');
    // …and none survived SIGTERM + SIGKILL of the group.
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 0)).toBe(true);
  });

  it("a setsid escapee (own session, outside the process group) dies with the call's PID namespace", async () => {
    const ws = join(scratch.workspaceRoot, 'agent-setsid');
    const marker = `${Date.now() % 100000}6`;
    const { json } = await call(ws, [
      'sh',
      '-c',
      `setsid sh -c 'sleep ${marker}' > /dev/null 2>&1 < /dev/null & for i in $(seq 100); do pgrep -fx 'sleep ${marker}' > /dev/null && break; sleep 0.1; done; pgrep -fx 'sleep ${marker}' > /dev/null && echo started`,
    ]);
    expect(json.stdout).toBe('started\n'); // it really ran, in its own session
    expect(await waitFor(() => processesWith(`sleep\u0000${marker}`).length === 0)).toBe(true);
    expect(await waitFor(() => processesOfUid(SANDBOX_UID) === 0)).toBe(true);
  });

  it('contains a fork bomb (RLIMIT_NPROC on an unprivileged uid) and the host stays responsive', async () => {
    const ws = join(scratch.workspaceRoot, 'agent-bomb');
    const pending = call(ws, ['bash', '-c', 'b(){ b|b& }; b 2>/dev/null; sleep 60'], { timeoutMs: 8_000 });
    const { peak, hostSpawns } = await sampleUidDuring(pending, SANDBOX_UID);
    const { json } = await pending;
    expect(json.stopReason).toBe('timeout');
    expect(peak).toBeGreaterThan(8); // the bomb really forked…
    expect(peak).toBeLessThanOrEqual(64); // …up to RLIMIT_NPROC and no further
    expect(hostSpawns).toBeGreaterThan(0); // the host could still start processes meanwhile
    expect(await waitFor(() => processesOfUid(SANDBOX_UID) === 0)).toBe(true);
  });
});
