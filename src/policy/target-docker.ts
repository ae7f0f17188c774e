/**
 * docker target (docs/policy.md "docker"): `docker run` options; the runner appends the
 * image and the tool's argv. Declared egress uses the internal network `portcullis-egress`,
 * whose only way out is the egress proxy (compile --target egress).
 */
import type { NormalizedPolicy } from './normalize';
import { type Artifact, baseArtifact, isWritable, NOTE_ASSERTIONS, NOTE_EXEC, unmountableIpc, workingDirectory } from './artifact';

export const DOCKER_USER = '65532:65532';
export const DOCKER_EGRESS_NETWORK = 'portcullis-egress';

export function compileDocker(policy: NormalizedPolicy): Artifact {
  const artifact = baseArtifact(policy, 'docker');
  const argv = [
    'docker',
    'run',
    '--rm',
    // 1. No capabilities, no privilege gain through setuid binaries, read-only root.
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--read-only',
    // 2. Non-root user and resource limits.
    '--user',
    DOCKER_USER,
    '--pids-limit',
    '256',
    '--memory',
    '512m',
    '--memory-swap',
    '512m',
    '--cpus',
    '1',
    '--ipc',
    'private',
    // 3. No network at all unless something is declared.
    '--network',
    policy.net.length > 0 ? DOCKER_EGRESS_NETWORK : 'none',
  ];
  // A private /tmp, unless /tmp itself is a declared volume (docker refuses two mounts on one path).
  if (!policy.fs.some((grant) => grant.path === '/tmp'))
    argv.splice(argv.indexOf('--read-only') + 1, 0, '--tmpfs', '/tmp:rw,noexec,nosuid,nodev,size=64m');
  // 4. Declared paths as volumes, :ro or :rw.
  for (const grant of policy.fs) argv.push('--volume', `${grant.path}:${grant.path}:${isWritable(grant) ? 'rw' : 'ro'}`);
  for (const socket of policy.ipc) {
    if (socket.path === null) artifact.unenforceable.push(unmountableIpc(socket));
    else argv.push('--volume', `${socket.path}:${socket.path}:${socket.directory ? 'ro' : 'rw'}`);
  }
  if (policy.clock.tzdata) argv.push('--volume', '/etc/localtime:/etc/localtime:ro');
  // 5. Environment: only declared names, values taken from the runner's environment.
  for (const injection of artifact.envInjections) argv.push('--env', injection.name);
  argv.push('--workdir', workingDirectory(policy));

  for (const entry of policy.exec) {
    if (entry.nestedSandbox) {
      artifact.unenforceable.push({
        capability: `exec:spawn:${entry.binary}?nestedSandbox=true`,
        reason:
          "docker's default seccomp profile blocks the user namespaces a nested sandbox needs; Portcullis does not loosen it. Run this tool with --target bwrap or with the browser's own sandbox disabled.",
      });
    }
  }
  artifact.argv = argv;
  artifact.notes.push(
    'append the image and the tool argv; the image must provide the binaries listed in `exec`.',
    policy.net.length > 0
      ? `network: ${DOCKER_EGRESS_NETWORK} must be an internal network whose only exit is the egress proxy.`
      : 'network: none (nothing declared).',
    'fs: volumes; create and delete are enforced as write.',
    NOTE_EXEC,
  );
  if (policy.assertions.length > 0) artifact.notes.push(NOTE_ASSERTIONS);
  return artifact;
}
