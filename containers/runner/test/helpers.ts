/** Test helpers: a realistic bwrap prefix, a runner on an ephemeral port, signed requests. */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RunnerConfig } from '../src/invocation.ts';
import type { EgressAuditEvent } from '../src/proxy.ts';
import { createRunnerServer } from '../src/server.ts';
import { importRunnerKey, signRunnerRequest } from '../../../src/protocol/index.ts';

export const TEST_SECRET = 'test-runner-secret-0123456789abcdef-not-for-production';
/**
 * Each test file runs its sandboxes as its own uid: RLIMIT_NPROC counts per uid, so a fork bomb
 * in one file (files run in parallel) cannot starve another file's sandboxes.
 */
export const SANDBOX_UIDS = {
  sandbox: 61001,
  egress: 61002,
  mcp: 61003,
  runner: 61004,
  container: 61005,
  compiled: 61006,
  e2e: 61007,
  symlinks: 61008,
  /** The runner the Workers end-to-end tests reach (test/loopback/workers-global-setup.ts). */
  workersE2e: 61009,
} as const;

/** A scratch tree every sandbox uid can traverse (0711), removed by cleanup(). */
export function makeScratch(): { root: string; workDir: string; workspaceRoot: string; cleanup: () => void } {
  const root = mkdtempSync('/tmp/portcullis-runner-test-');
  chmodSync(root, 0o711);
  const workDir = join(root, 'work');
  const workspaceRoot = join(root, 'workspaces');
  mkdirSync(workDir, { mode: 0o711 });
  mkdirSync(workspaceRoot, { mode: 0o711 });
  chmodSync(workDir, 0o711);
  chmodSync(workspaceRoot, 0o711);
  return { root, workDir, workspaceRoot, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Binds a top-level directory the way the host has it: merged-/usr symlink or a read-only bind. */
function systemDir(name: string): string[] {
  try {
    const stat = lstatSync(`/${name}`);
    if (stat.isSymbolicLink()) return ['--symlink', execFileSync('readlink', [`/${name}`], { encoding: 'utf8' }).trim(), `/${name}`];
    return ['--ro-bind', `/${name}`, `/${name}`];
  } catch {
    return [];
  }
}

/**
 * What the policy compiler's `bwrap` target produces for a tool with fs:read or fs:write on its
 * workspace: every namespace unshared (network included), dies with the runner, new session
 * (no TIOCSTI into the runner's terminal), empty environment, read-only system dirs, a
 * read-only root, private /tmp, and only the agent's workspace from the host.
 */
export function bwrapPrefix(options: {
  workspace: string;
  workspaceMode: 'rw' | 'ro';
  roBinds?: Array<[string, string]>;
  binds?: Array<['rw' | 'ro', string, string]>;
}): string[] {
  const libs = readdirSync('/').filter((n) => /^lib/.test(n));
  return [
    'bwrap',
    '--unshare-all',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
    '--ro-bind',
    '/usr',
    '/usr',
    ...systemDir('bin'),
    ...systemDir('sbin'),
    ...libs.flatMap(systemDir),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    options.workspaceMode === 'rw' ? '--bind' : '--ro-bind',
    options.workspace,
    '/workspace',
    ...(options.roBinds ?? []).flatMap(([src, dest]) => ['--ro-bind', src, dest]),
    ...(options.binds ?? []).flatMap(([mode, src, dest]) => [mode === 'rw' ? '--bind' : '--ro-bind', src, dest]),
    '--remount-ro',
    '/',
    '--chdir',
    '/workspace',
  ];
}

export interface RunnerReply {
  exitCode?: number | null;
  signal?: string | null;
  stdout?: string;
  stderr?: string;
  truncated?: boolean;
  durationMs?: number;
  stopReason?: string;
  egressEvents?: EgressAuditEvent[];
  error?: { code: string; message: string; requestId: string };
}

export interface TestRunner {
  url: string;
  audit: EgressAuditEvent[];
  /** Signs and sends; `sign: false` sends unsigned, `nowS` forges the signing time. */
  post(
    body: unknown,
    options?: {
      sign?: boolean;
      nowS?: number;
      tamper?: (headers: Record<string, string>) => void;
      rawBody?: string;
      abortAfterMs?: number;
      signal?: AbortSignal;
    },
  ): Promise<{ status: number; json: RunnerReply }>;
  close(): Promise<void>;
}

export async function startRunner(
  config: Partial<RunnerConfig> & Pick<RunnerConfig, 'workDir'> & { workspaceRoot: string; uid: number; secret?: string },
): Promise<TestRunner> {
  const key = await importRunnerKey(config.secret ?? TEST_SECRET);
  const audit: EgressAuditEvent[] = [];
  const server = createRunnerServer({
    key,
    config: {
      isolation: 'bwrap',
      operatorAllow: [],
      killGraceMs: 300,
      audit: (e) => audit.push(e),
      ...config,
      sandbox: { uid: config.uid, gid: config.uid, maxProcesses: 64, nodeInSandbox: '/usr/bin/node', workspaceRoot: config.workspaceRoot },
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    audit,
    async post(body, options = {}) {
      const text = options.rawBody ?? JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.sign !== false)
        Object.assign(
          headers,
          await signRunnerRequest(key, {
            method: 'POST',
            path: '/invocations',
            body: text,
            nowS: options.nowS ?? Math.floor(Date.now() / 1000),
          }),
        );
      options.tamper?.(headers);
      const signal = options.signal ?? (options.abortAfterMs ? AbortSignal.timeout(options.abortAfterMs) : undefined);
      const res = await fetch(`${url}/invocations`, { method: 'POST', headers, body: text, signal });
      return { status: res.status, json: (await res.json()) as RunnerReply };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Pids of live processes whose command line contains marker (host view, /proc). */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /State:\s+(\w)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (cmdline.includes(marker) && state !== 'Z') found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/**
 * Live processes owned by uid (host view). `zombies: true` counts unreaped ones too: they still
 * count against the uid's RLIMIT_NPROC, so the next call of that uid cannot fork until init
 * has reaped them.
 */
export function processesOfUid(uid: number, options: { zombies?: boolean } = {}): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status) && (options.zombies || !/State:\s+Z/.test(status))) count++;
    } catch {
      // exited while we looked
    }
  }
  return count;
}

/** Polls an async condition (e.g. "the runner answers 200 again") up to a generous deadline. */
export async function waitForAsync(predicate: () => Promise<boolean>, deadlineMs = 20_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

export async function waitFor(predicate: () => boolean, deadlineMs = 20_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return predicate();
}

/**
 * Everything an escape could change on a host tree, without following symlinks: per entry its
 * type, mode, owner, size, mtime and (files) content. Compared before/after an attack.
 */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string) => {
    const stat = lstatSync(path);
    const kind = stat.isSymbolicLink() ? 'link' : stat.isDirectory() ? 'dir' : 'file';
    const content = kind === 'file' ? readFileSync(path, 'base64') : '';
    out[path] = `${kind} ${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${stat.size} ${stat.mtimeMs} ${content}`;
    if (kind === 'dir') for (const name of readdirSync(path).sort()) walk(join(path, name));
  };
  walk(root);
  return out;
}

/**
 * While `call` runs, samples every 100 ms how many processes `uid` has (the peak) and whether
 * the host can still start a process. Sampled for the whole call, however long a loaded
 * machine takes to reach its timeout.
 */
export async function sampleUidDuring(call: Promise<unknown>, uid: number): Promise<{ peak: number; hostSpawns: number }> {
  let done = false;
  const settle = () => {
    done = true;
  };
  void call.then(settle, settle);
  let peak = 0;
  let hostSpawns = 0;
  while (!done) {
    peak = Math.max(peak, processesOfUid(uid));
    if (spawnSync('true').status === 0) hostSpawns++;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { peak, hostSpawns };
}

/**
 * A self-signed P-256 certificate for a local HTTPS test server, valid one day: the key and
 * the certificate (which is also the CA the client trusts) as PEM files. `subjectAltName` as
 * openssl writes it, e.g. `DNS:allowed.test,IP:127.0.0.1`.
 */
export function selfSignedServerCert(keyPath: string, certPath: string, commonName: string, subjectAltName: string): void {
  const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const subject = ['-subj', `/CN=${commonName}`, '-addext', `subjectAltName=${subjectAltName}`];
  execFileSync('openssl', ['req', '-x509', ...curve, '-nodes', '-days', '1', ...subject, '-keyout', keyPath, '-out', certPath], {
    stdio: 'ignore',
  });
}
