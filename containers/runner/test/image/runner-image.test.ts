/**
 * The runner image as production runs it (harness.ts: no network, read-only root, every
 * capability but SETUID/SETGID/KILL dropped, no-new-privileges, tmpfs scratch, the secret given
 * at start), attacked through its signed API from inside: what a tool can and cannot do there.
 */
import { build } from 'esbuild';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesOfUid, processesWith } from '../helpers.ts';
import { TOOL_UID, call, docker, requireImage, startImage, type RunningImage } from './harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixtureDir = mkdtempSync('/tmp/portcullis-image-fixture-');
let image: RunningImage;

beforeAll(async () => {
  await requireImage();
  // The MCP server fixture as one file (the SDK bundled in): the image has no node_modules.
  await build({
    entryPoints: [join(here, '..', 'fixtures', 'mcp-server.mjs')],
    outfile: join(fixtureDir, 'mcp-server.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
    // As scripts/build-runner.mjs does: bundled CommonJS calls require() for Node built-ins.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  chmodSync(fixtureDir, 0o755); // mkdtemp makes it 0700: the tool uid must read the fixture
  image = await startImage({ mounts: [`${fixtureDir}:/srv/fixture:ro`] });
}, 120_000);

afterAll(async () => {
  await image?.stop();
  rmSync(fixtureDir, { recursive: true, force: true });
});

describe('the runner image, run as production runs it', { timeout: 90_000 }, () => {
  it('runs a permitted command as the tool uid in /workspace, with a bare environment', async () => {
    const { status, json } = await image.post(call(['sh', '-c', 'id -u; id -g; pwd; env | sort'], { env: { GREETING: 'hello' } }));
    expect(status).toBe(200);
    expect(json.exitCode).toBe(0);
    const lines = (json.stdout ?? '').split('\n');
    expect(lines.slice(0, 3)).toEqual([String(TOOL_UID), String(TOOL_UID), '/workspace']);
    expect(json.stdout).toContain('GREETING=hello\n');
    expect(json.stdout).not.toContain('RUNNER_');
  });

  it("refuses a request signed with another key (another instance's secret) with 401, nothing run", async () => {
    const marker = `/workspace/forged-${Date.now()}`;
    const { status } = await image.post(call(['touch', marker]), { secret: 'f'.repeat(64) });
    expect(status).toBe(401);
    const { json } = await image.post(call(['sh', '-c', `test -e ${marker} && echo present || echo absent`]));
    expect(json.stdout).toBe('absent\n');
  });

  it("keeps the runner's secret from a tool: not in /proc/1/environ, any process's environ or any file it can read", async () => {
    const script = [
      "echo \"pid1:$(cat /proc/1/environ 2>&1 | tr '\\0' ' ')\"",
      "runner=$(for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q \"^/usr/local/bin/node /app/runner.mjs\" && echo $p && break; done)",
      "echo \"runner:$(cat $runner/environ 2>&1 | tr '\\0' ' ')\"",
      "echo \"all:$(for p in /proc/[0-9]*; do cat $p/environ 2>/dev/null; done | tr '\\0' ' ')\"",
      'echo "files:$(grep -rlsF "$PROBE" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null)"',
    ].join('; ');
    const { json } = await image.post(call(['sh', '-c', script], { env: { PROBE: image.secret.slice(0, 24) } }));
    expect(json.exitCode).toBe(0);
    const out = json.stdout ?? '';
    expect(out, out).toMatch(/^pid1:.*Permission denied$/m);
    expect(out, out).toMatch(/^runner:cat: \/proc\/\d+\/environ: Permission denied$/m);
    expect(out).toMatch(/^files:$/m);
    // PROBE itself is in the tool's own environment; the secret past its first 24 characters is nowhere.
    expect(out).not.toContain(image.secret.slice(24));
    // As root inside the container: PID 1 (tini) and the runner were re-executed without it
    // (secret-env.ts). Only those two: `docker exec` gives its own processes the container's
    // configured environment, secret included, which is the engine's doing, not the image's.
    const asRoot = await image.exec(
      'sh',
      '-c',
      'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline | grep -q "^/usr/local/bin/node /app/runner.mjs" && runner=$p; done; cat /proc/1/environ $runner/environ | tr "\\0" "\\n"',
    );
    expect(asRoot).toContain('RUNNER_ISOLATION=container');
    expect(asRoot).not.toContain(image.secret);
    expect(await image.exec('cat', '/proc/1/cmdline')).toMatch(/^\/usr\/bin\/tini\0--\0/);
  });

  it('contains a fork bomb at RLIMIT_NPROC, stays responsive during it, and leaves nothing of the tool uid behind', async () => {
    // Every bomb instance stays (it sleeps after forking), so the tool uid sits at its process
    // limit until the timeout, instead of a bomb that dies out between two samples once forks
    // fail. stderr discarded: refused forks print errors that could fill the output limit first.
    const bomb = image.post(call(['sh', '-c', 'exec 2>/dev/null; bomb() { bomb | bomb & sleep 600; }; bomb'], { timeoutMs: 8_000 }));
    let peak = 0;
    let healthy = 0;
    let settled = false;
    void bomb.finally(() => (settled = true));
    while (!settled) {
      peak = Math.max(peak, processesOfUid(TOOL_UID));
      if ((await image.get('/healthz')).status === 200) healthy++;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { status, json } = await bomb;
    expect(status).toBe(200);
    expect(json.stopReason).toBe('timeout');
    expect(healthy).toBeGreaterThan(0);
    expect(peak).toBeGreaterThan(10);
    expect(peak).toBeLessThanOrEqual(128); // RUNNER_MAX_PROCESSES in the image
    expect(processesOfUid(TOOL_UID)).toBe(0);
    // The next call can fork again: nothing of the bomb (not even unreaped zombies) holds the limit.
    const next = await image.post(
      call(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do (true) & done; wait; echo forked']),
    );
    expect(next.json.stdout).toBe('forked\n');
    expect(processesOfUid(TOOL_UID, { zombies: true })).toBe(0);
  });

  it("kills a setsid child that left the call's process group when the call ends", async () => {
    const marker = `${Date.now() % 1_000_000}7`;
    const { json } = await image.post(call(['sh', '-c', `setsid sleep ${marker} > /dev/null 2>&1 < /dev/null & echo started`]));
    expect(json.stdout).toBe('started\n');
    expect(processesWith(`sleep\u0000${marker}`)).toEqual([]);
    expect(processesOfUid(TOOL_UID)).toBe(0);
  });

  it('caps output and stops a call at its timeout', async () => {
    const capped = await image.post(call(['head', '-c', '200000', '/dev/zero'], { outputLimitBytes: 1000 }));
    expect(capped.json.stopReason).toBe('output-limit');
    expect(capped.json.truncated).toBe(true);
    expect(capped.json.stdout?.length).toBe(1000);
    const slow = await image.post(call(['sleep', '600'], { timeoutMs: 1_000 }));
    expect(slow.json.stopReason).toBe('timeout');
    expect(processesOfUid(TOOL_UID)).toBe(0);
  });

  it('calls an MCP server fixture through tools/call, as the tool uid', async () => {
    await image.post(call(['sh', '-c', 'echo "# notes in the workspace" > /workspace/notes.md']));
    const mcp = (tool: string, args: Record<string, unknown>) =>
      image.post({
        tool: 'files',
        mcp: { command: ['node', '/srv/fixture/mcp-server.mjs'], tool, arguments: args },
        env: {},
        timeoutMs: 30_000,
        outputLimitBytes: 65_536,
      });
    const read = await mcp('read_file', { path: 'notes.md' });
    expect(read.status).toBe(200);
    expect(read.json.stderr).toBe('');
    expect(JSON.parse(read.json.stdout ?? '')).toEqual({ content: [{ type: 'text', text: '# notes in the workspace\n' }] });
    const who = await mcp('whoami', {});
    const text = (JSON.parse(who.json.stdout ?? '') as { content: Array<{ text: string }> }).content[0]?.text ?? '';
    expect(JSON.parse(text)).toEqual({ uid: TOOL_UID, cwd: '/workspace' });
  });

  it('has no package manager a tool could install with, and no writable place outside the scratch mounts', async () => {
    const managers = ['npm', 'npx', 'corepack', 'yarn', 'yarnpkg', 'pnpm', 'apt', 'apt-get', 'dpkg', 'pip', 'pip3', 'gem'];
    const script = [
      `for m in ${managers.join(' ')}; do command -v "$m" > /dev/null && echo "present:$m"; done`,
      'ls /usr/local/lib/node_modules /opt /var/lib/dpkg/info 2>/dev/null | grep -v -e ":$" -e "^$" | sed "s/^/entry:/"',
      'for d in / /usr/local/bin /app /etc; do touch "$d/.probe" 2>/dev/null && echo "writable:$d"; done',
      'echo done',
    ].join('; ');
    const { json } = await image.post(call(['sh', '-c', script]));
    expect(json.stdout).toBe('done\n');
    // Checked as root too: not merely hidden from the tool uid.
    expect(await image.exec('sh', '-c', `for m in ${managers.join(' ')}; do command -v "$m"; done; echo end`)).toBe('end');
  });

  it('passes its own HEALTHCHECK', async () => {
    const probe = await startImage({ health: true });
    try {
      const deadline = Date.now() + 60_000;
      let status = '';
      while (Date.now() < deadline && status !== 'healthy') {
        status = await docker('inspect', '--format', '{{.State.Health.Status}}', probe.id);
        if (status !== 'healthy') await new Promise((r) => setTimeout(r, 500));
      }
      expect(status).toBe('healthy');
    } finally {
      await probe.stop();
    }
  });
});
