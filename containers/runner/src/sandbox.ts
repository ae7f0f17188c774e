/**
 * Local sandbox: wraps a tool's argv in bubblewrap.
 *
 * The bwrap argv prefix (namespaces, binds, --clearenv, --chdir) is compiled from the tool's
 * policy by src/policy (the `bwrap` target) and arrives with the invocation; this module only
 * adds what belongs to the runner:
 *  - bind sources inside the workspace root opened without following symlinks and passed as
 *    fds (bind-sources.ts), after the prefix check below;
 *  - fork-bomb containment: the runner (root) starts bwrap as an unprivileged uid with
 *    RLIMIT_NPROC set by `prlimit`. Root ignores RLIMIT_NPROC, an ordinary uid does not;
 *  - the invocation's environment (--setenv after the prefix's --clearenv);
 *  - the egress path: the proxy's unix socket and the in-sandbox launcher/forwarder.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInsideRoot, pinBindSources, type PinRefusal } from './bind-sources.ts';
import { type BwrapOption, formatBwrapPrefix, hasOption, parseBwrapPrefix } from './bwrap-argv.ts';
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

export type PrefixProblem =
  | 'not-bwrap'
  | 'shares-network'
  | 'unknown-option'
  | 'missing-argument'
  | 'command-in-prefix'
  | 'network-not-unshared'
  | 'pid-not-unshared'
  | 'no-die-with-parent'
  | 'no-clearenv'
  | 'bind-source-not-normalized'
  | 'writable-bind-outside-workspace-root'
  | 'read-only-bind-over-runner-dirs'
  | 'try-bind-inside-workspace-root'
  | 'binds-span-agents';

const BINDS = new Set(['--bind', '--ro-bind', '--ro-bind-try']);

function normalized(path: string): boolean {
  return isAbsolute(path) && resolve(path) === path;
}

/** `dir` is `path` or below it (one notion of "below" with the bind sources: isInsideRoot). */
function within(path: string, dir: string): boolean {
  return relative(path, dir) === '' || isInsideRoot(path, dir);
}

/**
 * The runner refuses a prefix that would weaken the sandbox, whoever sent it (fail closed),
 * first failure wins:
 *  1 argv[0] is not bwrap → refuse;
 *  2 --share-net anywhere → refuse;
 *  3 the options up to `--` do not parse against the allowlist (unknown option, missing
 *    argument, anything after `--`; bwrap-argv.ts) → refuse;
 *  4 neither --unshare-all nor --unshare-net → refuse;
 *  5 neither --unshare-all nor --unshare-pid → refuse (the call's processes die with its PID
 *    namespace, a `setsid` escapee included);
 *  6 no --die-with-parent → refuse;
 *  7 no --clearenv → refuse;
 *  8 a bind source that is not an absolute, normalized path (`..`, `.`, `//`, trailing `/`) → refuse;
 *  9 a writable bind whose source is not inside the workspace root (e.g. a compiled artifact
 *    sent without compiledSandbox's mapping: `--bind /workspace /workspace`) → refuse;
 * 10 a read-only bind outside the root whose source is the root, contains it, or contains one
 *    of the runner's own directories (work dir: per-call sockets and CA keys) → refuse;
 * 11 a --ro-bind-try inside the root (such sources are opened by the runner, never skipped) → refuse;
 * 12 binds inside the root that are not all in one agent directory (one first-level entry of
 *    the root) → refuse;
 * 13 accept. The binds inside the root are then opened without following symlinks
 *    (bind-sources.ts) before anything runs.
 */
export function checkBwrapPrefix(prefix: string[], workspaceRoot: string, runnerDirs: string[] = []): PrefixProblem | null {
  const program = prefix[0] ?? '';
  if (program !== 'bwrap' && !program.endsWith('/bwrap')) return 'not-bwrap'; // 1
  if (prefix.includes('--share-net')) return 'shares-network'; // 2
  const parsed = parseBwrapPrefix(prefix);
  if (!parsed.ok) return parsed.reason; // 3
  const { options } = parsed;
  if (!hasOption(options, '--unshare-all', '--unshare-net')) return 'network-not-unshared'; // 4
  if (!hasOption(options, '--unshare-all', '--unshare-pid')) return 'pid-not-unshared'; // 5
  if (!hasOption(options, '--die-with-parent')) return 'no-die-with-parent'; // 6
  if (!hasOption(options, '--clearenv')) return 'no-clearenv'; // 7
  const root = resolve(workspaceRoot);
  const agents = new Set<string>();
  for (const { name, args } of options) {
    if (!BINDS.has(name)) continue;
    const source = args[0] ?? '';
    if (!normalized(source)) return 'bind-source-not-normalized'; // 8
    const inside = isInsideRoot(root, source);
    if (name === '--bind' && !inside) return 'writable-bind-outside-workspace-root'; // 9
    if (!inside && [root, ...runnerDirs.map((dir) => resolve(dir))].some((dir) => within(source, dir)))
      return 'read-only-bind-over-runner-dirs'; // 10
    if (name === '--ro-bind-try' && inside) return 'try-bind-inside-workspace-root'; // 11
    if (inside) agents.add(relative(root, source).split(sep)[0] ?? '');
  }
  if (agents.size > 1) return 'binds-span-agents'; // 12
  return null; // 13
}

export type PreparedSandbox =
  { ok: true; program: string; options: BwrapOption[]; fds: number[] } | { ok: false; reason: PrefixProblem | PinRefusal };

/**
 * The prefix check, then the binds inside the workspace root opened as fds (bind-sources.ts).
 * On success the caller owns `fds` and closes them once the sandbox has started (closeAll).
 */
export function prepareSandbox(prefix: string[], config: SandboxConfig, runnerDirs: string[]): PreparedSandbox {
  const problem = checkBwrapPrefix(prefix, config.workspaceRoot, runnerDirs);
  if (problem) return { ok: false, reason: problem };
  const parsed = parseBwrapPrefix(prefix);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const owner = process.getuid?.() === 0 ? { uid: config.uid, gid: config.gid } : null;
  const pinned = pinBindSources(parsed.options, config.workspaceRoot, owner);
  if (!pinned.ok) return pinned;
  return { ok: true, program: parsed.program, options: pinned.options, fds: pinned.fds };
}

export interface SandboxedCommand {
  argv: string[];
  uid?: number;
  gid?: number;
}

export function buildSandboxedCommand(input: {
  program: string;
  /** The prefix's options, binds inside the workspace root already pinned (prepareSandbox). */
  options: BwrapOption[];
  command: string[];
  env: Record<string, string>;
  /** Host path of this invocation's egress proxy socket; absent = no egress at all. */
  egressSocket?: string;
  /** Host path of the per-call CA certificate when the proxy terminates TLS (placeholders). */
  caCertPath?: string;
  config: SandboxConfig;
}): SandboxedCommand {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, ...input.env };
  const mounts: BwrapOption[] = [];
  if (input.egressSocket) {
    Object.assign(env, {
      HTTPS_PROXY: SANDBOX_PROXY_URL,
      https_proxy: SANDBOX_PROXY_URL,
      HTTP_PROXY: SANDBOX_PROXY_URL,
      http_proxy: SANDBOX_PROXY_URL,
    });
    mounts.push(
      { name: '--ro-bind', args: [LAUNCHER_HOST_PATH, `${SANDBOX_RUN_DIR}/launcher.mjs`] },
      { name: '--bind', args: [input.egressSocket, `${SANDBOX_RUN_DIR}/egress.sock`] },
    );
    if (input.caCertPath) {
      mounts.push({ name: '--ro-bind', args: [input.caCertPath, `${SANDBOX_RUN_DIR}/ca.pem`] });
      for (const name of CA_TRUST_VARIABLES) env[name] = `${SANDBOX_RUN_DIR}/ca.pem`;
    }
  }
  // bwrap applies options in order: the runner's mounts go before the prefix makes the root
  // read-only (--remount-ro), and --setenv after its --clearenv. Found among parsed options, so
  // an argument that happens to read "--remount-ro" is not mistaken for the option.
  const remount = input.options.findIndex((option) => option.name === '--remount-ro');
  const at = remount === -1 ? input.options.length : remount;
  const withMounts = [...input.options.slice(0, at), ...mounts, ...input.options.slice(at)];
  const setenv = Object.entries(env).map(([name, value]) => ({ name: '--setenv', args: [name, value] }));
  const command = input.egressSocket ? [input.config.nodeInSandbox, `${SANDBOX_RUN_DIR}/launcher.mjs`, ...input.command] : input.command;
  const limit = String(input.config.maxProcesses);
  const bwrap = [...formatBwrapPrefix(input.program, [...withMounts, ...setenv]), '--', ...command];
  const argv = ['prlimit', `--nproc=${limit}:${limit}`, '--', ...bwrap];
  if (process.getuid?.() !== 0) return { argv };
  return { argv, uid: input.config.uid, gid: input.config.gid };
}
