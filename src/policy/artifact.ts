/** The shape every adapter returns, and the helpers they share. */
import type { EgressPolicy } from './egress';
import { namedIpc } from './ipc-endpoints';
import type { Assertion, FsGrant, IpcGrant, NormalizedPolicy } from './normalize';

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
  /** Every assertion with its description; `enforcedBy` only where Portcullis enforces it. */
  assertions: Assertion[];
  /** The manifest's serverCapabilities (canonical): granted to every tool, beyond what a tool declares itself. */
  serverCapabilities: string[];
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
    serverCapabilities: policy.serverCapabilities,
    notes: policy.serverCapabilities.length > 0 ? [serverCapabilitiesNote(policy)] : [],
    unenforceable: [],
  };
}

function serverCapabilitiesNote(policy: NormalizedPolicy): string {
  const who = policy.scope.kind === 'tool' ? `tool ${policy.scope.tool}` : 'every tool';
  return `serverCapabilities: ${policy.serverCapabilities.join(', ')} come from the manifest's serverCapabilities and are granted to ${who}, whatever the tool declares itself.`;
}

export function ipcText(grant: IpcGrant): string {
  return `ipc:connect:${grant.endpoint}`;
}

/** A named endpoint with no fixed socket path: listed, never mounted. */
export function unmountableIpc(grant: IpcGrant): { capability: string; reason: string } {
  return {
    capability: ipcText(grant),
    reason: namedIpc(grant.endpoint)?.refused ?? 'no socket path is known for this endpoint; nothing is mounted.',
  };
}

export const NOTE_EXEC =
  'exec: the runner refuses any argv[0] not listed in `exec`; binaries are resolved inside the sandbox, never by a shell.';
export const NOTE_ASSERTIONS =
  "assertions: an entry with enforcedBy is enforced by Portcullis as it says; every other entry is the publisher's claim, carried for the host to verify (no sandbox primitive expresses it).";
