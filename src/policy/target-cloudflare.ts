/**
 * cloudflare target (docs/policy.md "cloudflare"): the configuration the ToolSandbox
 * Container applies. The container has no internet of its own; its outbound handler sees
 * every request (HTTPS intercepted) and calls decideEgress with `egress`.
 */
import type { NormalizedPolicy } from './normalize';
import { type Artifact, baseArtifact, fsGrantText, ipcText, NOTE_ASSERTIONS, NOTE_EXEC, workingDirectory } from './artifact';

export const CLOUDFLARE_DEFAULTS = {
  instanceType: 'basic',
  maxInstances: 10,
  sleepAfter: '5m',
  timeoutMs: 30_000,
  outputLimitBytes: 64 * 1024,
} as const;

export function compileCloudflare(policy: NormalizedPolicy): Artifact {
  const artifact = baseArtifact(policy, 'cloudflare');
  artifact.config = {
    enableInternet: false,
    interceptHttps: true,
    allowedHosts: artifact.egress.allow,
    // Injected by the outbound handler (placeholder swap) or as plain env when not host-bound.
    credentials: policy.env.inject,
    envPassthrough: policy.env.read.filter((name) => !policy.env.inject.includes(name)),
    workingDirectory: workingDirectory(policy),
    instance: {
      instanceType: CLOUDFLARE_DEFAULTS.instanceType,
      maxInstances: CLOUDFLARE_DEFAULTS.maxInstances,
      sleepAfter: CLOUDFLARE_DEFAULTS.sleepAfter,
    },
    limits: { timeoutMs: CLOUDFLARE_DEFAULTS.timeoutMs, outputLimitBytes: CLOUDFLARE_DEFAULTS.outputLimitBytes },
  };
  for (const grant of policy.fs) {
    artifact.unenforceable.push({
      capability: fsGrantText(grant),
      reason:
        'a Container has its own filesystem; host paths are never mounted and path-level limits inside the instance are not enforced.',
    });
  }
  for (const socket of policy.ipc) {
    artifact.unenforceable.push({ capability: ipcText(socket), reason: 'a Container cannot reach host unix sockets.' });
  }
  for (const entry of policy.exec.filter((e) => e.nestedSandbox)) {
    artifact.unenforceable.push({
      capability: `exec:spawn:${entry.binary}?nestedSandbox=true`,
      reason: 'nested user namespaces inside a Cloudflare Container are not verified; not granted.',
    });
  }
  artifact.notes.push(
    'egress: every request goes through the outbound handler, which applies decideEgress to `egress` (HTTPS only to allowedHosts).',
    'one instance per (workspace, agent, tool policy hash); provenance names the manifest.',
    NOTE_EXEC,
  );
  if (policy.assertions.length > 0) artifact.notes.push(NOTE_ASSERTIONS);
  return artifact;
}
