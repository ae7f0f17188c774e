/**
 * The normalized policy (IR) every adapter reads: merged, deduplicated, sorted, so that two
 * manifests that grant the same thing compile to the same IR and the same artifacts.
 */
import { canonicalJson, sha256HexSync } from '../lib';
import { assertionEnforcement } from './assertions';
import { type Capability, capabilityText } from './capability';
import { namedIpc } from './ipc-endpoints';
import type { Manifest, ParsedManifest, ParsedTool } from './manifest';

export interface FsGrant {
  path: string;
  /** true: the directory and everything under it (`/dir/**`); false: exactly this path. */
  tree: boolean;
  read: boolean;
  write: boolean;
  create: boolean;
  delete: boolean;
}

export interface NetGrant {
  host: string; // canonical host, '*' = any public host
  port: number;
}

/** An IPC grant: `path` is what is mounted (null: a named endpoint no target can mount). */
export interface IpcGrant {
  endpoint: string;
  path: string | null;
  /** A directory of sockets (x11), mounted read-only; false: one socket, mounted read-write. */
  directory: boolean;
}

export interface Assertion {
  id: string;
  description?: string;
  /** Set only for ids Portcullis enforces itself (ENFORCED_ASSERTIONS); otherwise the host must verify. */
  enforcedBy?: string;
}

export interface NormalizedPolicy {
  irVersion: 1;
  /** `sha256:` + hex SHA-256 of the RFC 8785 canonical manifest (the whole manifest). */
  provenance: string;
  manifest: { name: string; version: string };
  scope: { kind: 'server' } | { kind: 'tool'; tool: string };
  tools: string[];
  fs: FsGrant[];
  net: NetGrant[];
  blockPrivate: true;
  env: { read: string[]; inject: string[] };
  exec: { binary: string; nestedSandbox: boolean }[];
  ipc: IpcGrant[];
  clock: { system: boolean; tzdata: boolean };
  assertions: Assertion[];
  /** Every declared capability in canonical text, sorted, deduplicated (serverCapabilities included). */
  declared: string[];
  /** The manifest's serverCapabilities in canonical text: granted to every tool, whatever the tool declares. */
  serverCapabilities: string[];
}

export function manifestProvenance(manifest: Manifest): string {
  return `sha256:${sha256HexSync(canonicalJson(manifest))}`;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Does `outer` (a tree grant) contain `inner`'s path? */
function covers(outer: FsGrant, inner: FsGrant): boolean {
  if (!outer.tree) return false;
  return inner.path === outer.path || inner.path.startsWith(`${outer.path}/`);
}

function actionsSubset(inner: FsGrant, outer: FsGrant): boolean {
  return (!inner.read || outer.read) && (!inner.write || outer.write) && (!inner.create || outer.create) && (!inner.delete || outer.delete);
}

/**
 * fs merge rules: create and delete imply write (a mount cannot tell them apart), write
 * implies read; grants on the same path are OR-ed; a tree grant absorbs a narrower grant
 * whose actions it already includes (a narrower grant with more actions stays).
 */
function mergeFs(capabilities: Capability[]): FsGrant[] {
  const byKey = new Map<string, FsGrant>();
  for (const cap of capabilities) {
    if (cap.kind !== 'fs') continue;
    const key = `${cap.path}\u0000${cap.tree}`;
    const grant = byKey.get(key) ?? { path: cap.path, tree: cap.tree, read: false, write: false, create: false, delete: false };
    for (const action of cap.actions) grant[action] = true;
    if (grant.create || grant.delete) grant.write = true;
    if (grant.write) grant.read = true;
    byKey.set(key, grant);
  }
  const grants = [...byKey.values()];
  return grants
    .filter(
      (inner) =>
        !grants.some(
          (outer) =>
            outer !== inner &&
            covers(outer, inner) &&
            actionsSubset(inner, outer) &&
            !(outer.path === inner.path && outer.tree === inner.tree),
        ),
    )
    .sort((a, b) => byString(a.path, b.path) || Number(b.tree) - Number(a.tree));
}

function mergeNet(capabilities: Capability[]): NetGrant[] {
  const pairs = new Map<string, NetGrant>();
  for (const cap of capabilities) if (cap.kind === 'net') pairs.set(`${cap.host} ${cap.port}`, { host: cap.host, port: cap.port });
  const anyHostPorts = new Set([...pairs.values()].filter((grant) => grant.host === '*').map((grant) => grant.port));
  return [...pairs.values()]
    .filter((grant) => grant.host === '*' || !anyHostPorts.has(grant.port))
    .sort((a, b) => byString(a.host, b.host) || a.port - b.port);
}

function mergeIpc(capabilities: Capability[]): IpcGrant[] {
  const byEndpoint = new Map<string, IpcGrant>();
  for (const cap of capabilities) {
    if (cap.kind !== 'ipc') continue;
    const named = namedIpc(cap.endpoint);
    byEndpoint.set(
      cap.endpoint,
      named
        ? { endpoint: cap.endpoint, path: named.path, directory: named.directory }
        : { endpoint: cap.endpoint, path: cap.endpoint, directory: false },
    );
  }
  return [...byEndpoint.values()].sort((a, b) => byString(a.endpoint, b.endpoint));
}

function assertionsOf(capabilities: Capability[]): Assertion[] {
  // Keyed by id and description: two different descriptions of one id are both kept, never one dropped.
  const byKey = new Map<string, Assertion>();
  for (const cap of capabilities) {
    if (cap.kind !== 'assert') continue;
    const enforcement = assertionEnforcement(cap.id);
    byKey.set(`${cap.id}\u0000${cap.description ?? ''}`, {
      id: cap.id,
      ...(cap.description !== undefined ? { description: cap.description } : {}),
      ...(enforcement ? { enforcedBy: enforcement.enforcedBy } : {}),
    });
  }
  return [...byKey.values()].sort((a, b) => byString(a.id, b.id) || byString(a.description ?? '', b.description ?? ''));
}

export function normalizePolicy(parsed: ParsedManifest, toolName?: string): NormalizedPolicy | null {
  const selected: ParsedTool[] = toolName === undefined ? parsed.tools : parsed.tools.filter((entry) => entry.tool.name === toolName);
  if (selected.length === 0) return null;
  // serverCapabilities apply to every tool, so a per-tool compile gets them too (capgate's union).
  const capabilities = [...parsed.serverCapabilities, ...selected.flatMap((entry) => entry.capabilities)];
  const envRead = new Set<string>();
  const envInject = new Set<string>();
  const exec = new Map<string, boolean>();
  const clock = { system: false, tzdata: false };
  for (const cap of capabilities) {
    if (cap.kind === 'env') for (const action of cap.actions) (action === 'read' ? envRead : envInject).add(cap.name);
    if (cap.kind === 'exec') exec.set(cap.binary, (exec.get(cap.binary) ?? false) || cap.nestedSandbox);
    // A named endpoint's own variables (x11: DISPLAY) are pass-through from the operator.
    if (cap.kind === 'ipc') for (const name of namedIpc(cap.endpoint)?.env ?? []) envRead.add(name);
    if (cap.kind === 'clock') clock[cap.scope] = true;
  }
  return {
    irVersion: 1,
    provenance: manifestProvenance(parsed.manifest),
    manifest: { name: parsed.manifest.name, version: parsed.manifest.version },
    scope: toolName === undefined ? { kind: 'server' } : { kind: 'tool', tool: toolName },
    tools: selected.map((entry) => entry.tool.name).sort(byString),
    fs: mergeFs(capabilities),
    net: mergeNet(capabilities),
    blockPrivate: true,
    env: { read: [...envRead].sort(byString), inject: [...envInject].sort(byString) },
    exec: [...exec.entries()].map(([binary, nestedSandbox]) => ({ binary, nestedSandbox })).sort((a, b) => byString(a.binary, b.binary)),
    ipc: mergeIpc(capabilities),
    clock,
    assertions: assertionsOf(capabilities),
    declared: [...new Set(capabilities.map(capabilityText))].sort(byString),
    serverCapabilities: [...new Set(parsed.serverCapabilities.map(capabilityText))].sort(byString),
  };
}
