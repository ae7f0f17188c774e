/**
 * bwrap target (docs/policy.md "bwrap"): the argv prefix for one sandboxed call. The runner
 * appends the tool's own argv after the final `--`, adds `--setenv NAME value` for each
 * envInjections entry, and reaches the network only through the egress proxy.
 */
import type { NormalizedPolicy } from './normalize';
import { type Artifact, baseArtifact, isWritable, NOTE_ASSERTIONS, NOTE_EXEC, unmountableIpc, workingDirectory } from './artifact';

/** System directories every program needs, read-only; `-try` because distributions differ. */
const SYSTEM_RO_MOUNTS = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/lib32',
  '/etc/ld.so.cache',
  '/etc/ssl/certs',
  '/etc/ca-certificates',
  '/etc/alternatives',
];
const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';

export function compileBwrap(policy: NormalizedPolicy): Artifact {
  const artifact = baseArtifact(policy, 'bwrap');
  const nested = policy.exec.some((entry) => entry.nestedSandbox);
  const argv = [
    'bwrap',
    // 1. Fresh namespaces; the network namespace is always unshared (no interface but lo).
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-net',
    '--unshare-cgroup-try',
    // 2. Lifetime and terminal: die with the runner, no TIOCSTI into the runner's terminal.
    '--die-with-parent',
    '--new-session',
    // 3. Environment: nothing from the host; only fixed values and declared injections.
    '--clearenv',
    '--setenv',
    'PATH',
    SANDBOX_PATH,
    '--setenv',
    'HOME',
    '/tmp',
  ];
  // 4. Nested user namespaces only for the browser profile (Chromium's own sandbox needs them).
  if (!nested) argv.push('--disable-userns');
  // 5. Read-only system mounts, private /proc, /dev and /tmp.
  for (const path of SYSTEM_RO_MOUNTS) argv.push('--ro-bind-try', path, path);
  if (policy.clock.tzdata)
    argv.push('--ro-bind-try', '/etc/localtime', '/etc/localtime', '--ro-bind-try', '/etc/timezone', '/etc/timezone');
  argv.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  if (nested) argv.push('--tmpfs', '/dev/shm');
  // 6. Declared paths, broader first so a narrower read-write bind can sit inside a read-only one.
  for (const grant of policy.fs) argv.push(isWritable(grant) ? '--bind' : '--ro-bind', grant.path, grant.path);
  // 7. Declared unix sockets read-write; a named socket directory (x11) read-only, so the
  //    sandbox can connect to the host's sockets but not replace them with its own.
  for (const socket of policy.ipc) {
    if (socket.path === null) artifact.unenforceable.push(unmountableIpc(socket));
    else argv.push(socket.directory ? '--ro-bind' : '--bind', socket.path, socket.path);
  }
  // 8. The sandbox's own root (bwrap's tmpfs) read-only: only the writable binds and /tmp take
  //    writes. bwrap applies options in order, so this comes after every mount; the runner
  //    inserts its own mounts (/run/portcullis) just before it (docs/sandbox.md).
  argv.push('--remount-ro', '/');
  argv.push('--chdir', workingDirectory(policy), '--');

  artifact.argv = argv;
  artifact.notes.push(
    'network: always unshared; declared egress goes through the egress proxy (see `egress`), which applies decideEgress.',
    'fs: grants are bind mounts; create and delete are enforced as write (a mount cannot tell them apart).',
    'limits: CPU, memory and process count are applied by the runner (prlimit/cgroups), not by bwrap.',
    NOTE_EXEC,
  );
  if (nested) artifact.notes.push('nestedSandbox: user namespaces stay enabled and /dev/shm is a private tmpfs (browser profile).');
  if (policy.assertions.length > 0) artifact.notes.push(NOTE_ASSERTIONS);
  return artifact;
}
