/**
 * RUNNER_ISOLATION=container: the container is the sandbox, but the runner and its tools must
 * still not share an identity. A tool running as the runner's uid could read the runner's
 * memory and environment (/proc/1/environ) and signal it. So the runner runs as root inside the
 * container and every tool runs as the image's unprivileged uid (10001, RUNNER_SANDBOX_UID),
 * under RLIMIT_NPROC, and after each call every process of that uid is killed: a `setsid`
 * escapee leaves the call's process group but not its uid.
 */
import { spawn } from 'node:child_process';
import type { SandboxConfig } from './sandbox.ts';
import { CA_TRUST_VARIABLES } from './tls-intercept.ts';

/**
 * Where Cloudflare puts the certificate of the CA its HTTPS interception signs with
 * (`interceptHttps`); it exists only at run time, in the running container.
 */
export const CLOUDFLARE_CONTAINERS_CA = '/etc/cloudflare/certs/cloudflare-containers-ca.crt';

/**
 * A tool's environment in the container: every HTTPS connection of the container is terminated
 * by the interception, so a tool must trust that CA, and tools start with a bare environment
 * (nothing inherited from the runner). The trust variables are defaults: the invocation's own
 * environment comes last and may name another file (it can only make its own TLS fail).
 */
export function containerToolEnv(path: string, env: Record<string, string>): Record<string, string> {
  const trust = Object.fromEntries(CA_TRUST_VARIABLES.map((name) => [name, CLOUDFLARE_CONTAINERS_CA]));
  return { PATH: path, ...trust, ...env };
}

export interface ToolCommand {
  argv: string[];
  uid: number;
  gid: number;
}

/**
 * First failure wins: 1 the runner is not root (it could not switch identity: the tool would be
 * the runner) → null; 2 the tool uid or gid is root → null; 3 otherwise `prlimit` as the tool uid.
 */
export function containerToolCommand(command: string[], config: SandboxConfig): ToolCommand | null {
  if (process.getuid?.() !== 0) return null; // 1
  if (config.uid === 0 || config.gid === 0) return null; // 2
  const limit = String(config.maxProcesses);
  return { argv: ['prlimit', `--nproc=${limit}:${limit}`, '--', ...command], uid: config.uid, gid: config.gid }; // 3
}

/**
 * kill(-1, SIGKILL) from a process of the tool uid: the kernel signals every process that uid may
 * signal (all of its own, none of root's) while holding the task list lock, so a fork bomb cannot
 * fork past it. The killer is started by root, so the uid's RLIMIT_NPROC does not stop it.
 */
export function killEveryProcessOf(uid: number, gid: number): Promise<void> {
  return new Promise((resolve) => {
    const killer = spawn(process.execPath, ['-e', 'process.kill(-1, "SIGKILL")'], { uid, gid, env: {}, stdio: 'ignore' });
    killer.on('error', () => resolve());
    killer.on('exit', () => resolve());
  });
}
