/** The shape every adapter returns, and the helpers they share. */
import type { EgressPolicy } from './egress';
import type { FsGrant, NormalizedPolicy } from './normalize';

export type Target = 'bwrap' | 'docker' | 'egress' | 'cloudflare' | 'k8s';
export type EgressTarget = 'squid' | 'nftables';
export const TARGETS: readonly Target[] = ['bwrap', 'docker', 'egress', 'cloudflare', 'k8s'];
export const EGRESS_TARGETS: readonly EgressTarget[] = ['squid', 'nftables'];

/** A declared capability this target cannot grant or cannot enforce, and why. Never dropped silently. */
export interface Unenforceable {
  capability: string;
  reason: string;
}

export interface EnvInjection {
  name: string;
  /** credential: from the vault (a placeholder where hosts are bound); passthrough: an operator-set value. */
  source: 'credential' | 'passthrough';
}

export interface Artifact {
  target: Target;
  egressTarget?: EgressTarget;
  provenance: string;
  manifest: { name: string; version: string };
  scope: NormalizedPolicy['scope'];
  argv?: string[];
  config?: unknown;
  egress: EgressPolicy;
  envInjections: EnvInjection[];
  exec: { binary: string; nestedSandbox: boolean }[];
  /** system: the wall clock is readable; tzdata: time-zone data is provided (bind mount or image). */
  clock: { system: boolean; tzdata: boolean };
  assertions: { id: string; description?: string }[];
  notes: string[];
  unenforceable: Unenforceable[];
}

export function fsGrantText(grant: FsGrant): string {
  const actions = (['read', 'write', 'create', 'delete'] as const).filter((action) => grant[action]);
  return `fs:${actions.join(',')}:${grant.path}${grant.tree ? '/**' : ''}`;
}

export function netGrantText(host: string, port: number): string {
  return `net:connect:${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function isWritable(grant: FsGrant): boolean {
  return grant.write || grant.create || grant.delete;
}

/** The workspace is the working directory when a grant covers it, else the private /tmp. */
export function workingDirectory(policy: NormalizedPolicy): string {
  const covered = policy.fs.some((grant) => grant.path === '/workspace' || (grant.tree && '/workspace'.startsWith(`${grant.path}/`)));
  return covered ? '/workspace' : '/tmp';
}

/** Fields every adapter fills the same way from the IR. */
export function baseArtifact(policy: NormalizedPolicy, target: Target): Artifact {
  return {
    target,
    provenance: policy.provenance,
    manifest: policy.manifest,
    scope: policy.scope,
    egress: { allow: policy.net.map((grant) => ({ host: grant.host, port: grant.port })), blockPrivate: true },
    envInjections: [
      ...policy.env.inject.map((name) => ({ name, source: 'credential' as const })),
      ...policy.env.read.filter((name) => !policy.env.inject.includes(name)).map((name) => ({ name, source: 'passthrough' as const })),
    ],
    exec: policy.exec,
    clock: policy.clock,
    assertions: policy.assertions,
    notes: [],
    unenforceable: [],
  };
}

export const NOTE_EXEC = 'exec: the runner refuses any argv[0] not listed in `exec`; binaries are resolved inside the sandbox, never by a shell.';
export const NOTE_ASSERTIONS = 'assertions are the publisher\'s claims, shown to the operator; no sandbox can verify them.';
