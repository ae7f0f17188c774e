/**
 * The runner's secret must not stay in its environment: /proc/<pid>/environ shows the block the
 * process was started with, whatever `delete process.env.X` does later. The Worker can only hand
 * the secret to a container through its environment, so the runner, on start:
 *   1. RUNNER_SECRET set → writes it to a 0600 file in a fresh 0700 directory and re-executes
 *      itself (process.execve: same pid, new image, new environment block) with RUNNER_SECRET
 *      removed and RUNNER_SECRET_FILE naming the file; with RUNNER_INIT set (the image: tini)
 *      it re-executes that init instead, which starts the runner as its child: PID 1 then
 *      reaps the orphans of killed tools (a fork bomb's zombies would otherwise hold the tool
 *      uid's RLIMIT_NPROC), and its environment block never held the secret either;
 *   2. RUNNER_SECRET_FILE set → reads the file, checks it is a regular file of this uid that
 *      nobody else can read, deletes it and its directory, and forgets the variable;
 *   3. neither → no secret (the caller refuses to start).
 * Node without process.execve (< 22.15) cannot do 1: the runner refuses to start rather than
 * keep the secret in its environment.
 */
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const SECRET_DIR_PREFIX = 'portcullis-runner-secret-';

export type SecretSource = { ok: true; secret: string } | { ok: false; reason: 'missing' | 'no-execve' | 'bad-secret-file' };

export function takeRunnerSecret(env: NodeJS.ProcessEnv = process.env): SecretSource {
  const file = env.RUNNER_SECRET_FILE;
  if (env.RUNNER_SECRET !== undefined && file === undefined) {
    if (typeof process.execve !== 'function') return { ok: false, reason: 'no-execve' };
    const dir = mkdtempSync(join(tmpdir(), SECRET_DIR_PREFIX));
    const path = join(dir, 'secret');
    writeFileSync(path, env.RUNNER_SECRET, { mode: 0o600, flag: 'wx' });
    const { RUNNER_SECRET: _dropped, RUNNER_INIT: init, ...rest } = env;
    const self = [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
    const [program, ...args] = init ? [init, '--', ...self] : self;
    process.execve(program!, [program!, ...args], { ...rest, RUNNER_SECRET_FILE: path }); // 1
  }
  if (file === undefined) return { ok: false, reason: 'missing' }; // 3
  delete env.RUNNER_SECRET_FILE;
  // Only the file step 1 wrote: the variable is not a way to make the runner read or delete others.
  if (!dirname(file).startsWith(join(tmpdir(), SECRET_DIR_PREFIX)) || basename(file) !== 'secret')
    return { ok: false, reason: 'bad-secret-file' };
  try {
    const stat = lstatSync(file);
    if (!stat.isFile() || stat.uid !== process.getuid?.() || (stat.mode & 0o077) !== 0) return { ok: false, reason: 'bad-secret-file' };
    return { ok: true, secret: readFileSync(file, 'utf8') }; // 2
  } catch {
    return { ok: false, reason: 'bad-secret-file' };
  } finally {
    rmSync(dirname(file), { recursive: true, force: true });
  }
}
