/**
 * Local sandbox: wraps a tool's argv in bubblewrap.
 *
 * The bwrap argv prefix (namespaces, binds, --clearenv, --chdir) is compiled from the tool's
 * policy by src/policy (the `bwrap` target) and arrives with the invocation; this module only
 * adds what belongs to the runner:
 *  - fork-bomb containment: the runner (root) starts bwrap as an unprivileged uid with
 *    RLIMIT_NPROC set by `prlimit`. Root ignores RLIMIT_NPROC, an ordinary uid does not;
 *  - the invocation's environment (--setenv after the prefix's --clearenv);
 *  - the egress path: the proxy's unix socket and the in-sandbox launcher/forwarder.
 */
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CA_TRUST_VARIABLES } from './tls-intercept.ts';

export interface SandboxConfig {
  /** Unprivileged identity every sandboxed process runs as (when the runner is root). */
  uid: number;
  gid: number;
  /** RLIMIT_NPROC for that uid: the cap on processes a fork bomb can reach. */
  maxProcesses: number;
  /** A Node binary visible inside the sandbox (under a read-only /usr bind) for the launcher. */
  nodeInSandbox: string;
  /** Host directory under which rw bind sources (per-agent workspaces) may be created. */
  workspaceRoot: string;
}

export const LAUNCHER_HOST_PATH = fileURLToPath(new URL('./launcher.mjs', import.meta.url));
export const SANDBOX_RUN_DIR = '/run/portcullis';
export const SANDBOX_PROXY_URL = 'http://127.0.0.1:3128';
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export type PrefixProblem = 'not-bwrap' | 'network-not-unshared' | 'shares-network' | 'no-die-with-parent' | 'no-clearenv' | 'writable-bind-outside-workspace-root';

/** bwrap options that mount a host path writable into the sandbox. */
const WRITABLE_BINDS = new Set(['--bind', '--bind-try', '--dev-bind', '--dev-bind-try']);

/**
 * The runner refuses a prefix that would weaken the sandbox, whoever sent it (fail closed):
 * 1 argv[0] is not bwrap → refuse; 2 --share-net anywhere → refuse; 3 neither --unshare-all nor
 * --unshare-net → refuse; 4 no --die-with-parent → refuse; 5 no --clearenv → refuse; 6 a
 * writable bind whose host source is not inside the workspace root (e.g. a compiled artifact
 * sent without compiledSandbox's mapping: `--bind /workspace /workspace`) → refuse; 7 accept.
 */
export function checkBwrapPrefix(prefix: string[], workspaceRoot: string): PrefixProblem | null {
  const program = prefix[0] ?? '';
  if (program !== 'bwrap' && !program.endsWith('/bwrap')) return 'not-bwrap';
  if (prefix.includes('--share-net')) return 'shares-network';
  if (!prefix.includes('--unshare-all') && !prefix.includes('--unshare-net')) return 'network-not-unshared';
  if (!prefix.includes('--die-with-parent')) return 'no-die-with-parent';
  if (!prefix.includes('--clearenv')) return 'no-clearenv';
  for (let i = 0; i < prefix.length - 1; i++) {
    if (WRITABLE_BINDS.has(prefix[i] ?? '') && !isInside(resolve(workspaceRoot), prefix[i + 1] ?? '')) return 'writable-bind-outside-workspace-root';
  }
  return null;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, resolve(path));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Bind sources under the workspace root (per-agent workspaces and private paths, see
 * compiled-sandbox.ts) must exist for bwrap to mount them: a missing one is created, with every
 * missing directory between it and the root, and given to the sandbox uid (read-only binds too:
 * the mount, not the owner, keeps them read-only). Paths outside the root are never touched.
 */
export function prepareWritableBinds(prefix: string[], config: SandboxConfig): void {
  const runningAsRoot = process.getuid?.() === 0;
  const root = resolve(config.workspaceRoot);
  for (let i = 0; i < prefix.length - 2; i++) {
    if (prefix[i] !== '--bind' && prefix[i] !== '--ro-bind') continue;
    const source = resolve(prefix[i + 1] ?? '');
    if (!isInside(root, source)) continue; // never touch anything outside the workspace root
    let dir = root;
    for (const part of relative(root, source).split(sep)) {
      dir = join(dir, part);
      if (existsSync(dir)) continue;
      mkdirSync(dir, { mode: 0o700 });
      if (runningAsRoot) chownSync(dir, config.uid, config.gid);
    }
    // A writable bind's source belongs to the sandbox uid even when it already existed.
    if (prefix[i] === '--bind' && runningAsRoot) chownSync(source, config.uid, config.gid);
  }
}

export interface SandboxedCommand {
  argv: string[];
  uid?: number;
  gid?: number;
}

export function buildSandboxedCommand(input: {
  prefix: string[];
  command: string[];
  env: Record<string, string>;
  /** Host path of this invocation's egress proxy socket; absent = no egress at all. */
  egressSocket?: string;
  /** Host path of the per-call CA certificate when the proxy terminates TLS (placeholders). */
  caCertPath?: string;
  config: SandboxConfig;
}): SandboxedCommand {
  const prefix = input.prefix.at(-1) === '--' ? input.prefix.slice(0, -1) : [...input.prefix];
  const env: Record<string, string> = { PATH: DEFAULT_PATH, ...input.env };
  const mounts: string[] = [];
  if (input.egressSocket) {
    Object.assign(env, { HTTPS_PROXY: SANDBOX_PROXY_URL, https_proxy: SANDBOX_PROXY_URL, HTTP_PROXY: SANDBOX_PROXY_URL, http_proxy: SANDBOX_PROXY_URL });
    mounts.push('--ro-bind', LAUNCHER_HOST_PATH, `${SANDBOX_RUN_DIR}/launcher.mjs`, '--bind', input.egressSocket, `${SANDBOX_RUN_DIR}/egress.sock`);
    if (input.caCertPath) {
      mounts.push('--ro-bind', input.caCertPath, `${SANDBOX_RUN_DIR}/ca.pem`);
      for (const name of CA_TRUST_VARIABLES) env[name] = `${SANDBOX_RUN_DIR}/ca.pem`;
    }
  }
  // bwrap applies options in order: the runner's mounts go before the prefix makes the root
  // read-only (--remount-ro), and --setenv after its --clearenv.
  const remount = prefix.indexOf('--remount-ro');
  const at = remount === -1 ? prefix.length : remount;
  const withMounts = [...prefix.slice(0, at), ...mounts, ...prefix.slice(at)];
  const setenv = Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]);
  const command = input.egressSocket ? [input.config.nodeInSandbox, `${SANDBOX_RUN_DIR}/launcher.mjs`, ...input.command] : input.command;
  const limit = String(input.config.maxProcesses);
  const bwrap = [...withMounts, ...setenv, '--', ...command];
  const argv = ['prlimit', `--nproc=${limit}:${limit}`, '--', ...bwrap];
  if (process.getuid?.() !== 0) return { argv };
  return { argv, uid: input.config.uid, gid: input.config.gid };
}
