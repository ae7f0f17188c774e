/**
 * The normalized policy (IR) every adapter reads: merged, deduplicated, sorted, so that two
 * manifests that grant the same thing compile to the same IR and the same artifacts.
 */
import { canonicalJson, sha256HexSync } from '../lib';
import { type Capability, capabilityText } from './capability';
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
  ipc: { path: string }[];
  clock: { system: boolean; tzdata: boolean };
  assertions: { id: string; description?: string }[];
  /** Every declared capability in canonical text, sorted, deduplicated. */
  declared: string[];
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
    .filter((inner) => !grants.some((outer) => outer !== inner && covers(outer, inner) && actionsSubset(inner, outer) && !(outer.path === inner.path && outer.tree === inner.tree)))
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

export function normalizePolicy(parsed: ParsedManifest, toolName?: string): NormalizedPolicy | null {
  const selected: ParsedTool[] = toolName === undefined ? parsed.tools : parsed.tools.filter((entry) => entry.tool.name === toolName);
  if (selected.length === 0) return null;
  const capabilities = selected.flatMap((entry) => entry.capabilities);
  const envRead = new Set<string>();
  const envInject = new Set<string>();
  const exec = new Map<string, boolean>();
  const ipc = new Set<string>();
  const assertions = new Map<string, string | undefined>();
  const clock = { system: false, tzdata: false };
  for (const cap of capabilities) {
    if (cap.kind === 'env') for (const action of cap.actions) (action === 'read' ? envRead : envInject).add(cap.name);
    if (cap.kind === 'exec') exec.set(cap.binary, (exec.get(cap.binary) ?? false) || cap.nestedSandbox);
    if (cap.kind === 'ipc') ipc.add(cap.path);
    if (cap.kind === 'clock') clock[cap.scope] = true;
    if (cap.kind === 'assert' && (!assertions.has(cap.id) || assertions.get(cap.id) === undefined)) assertions.set(cap.id, cap.description);
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
    ipc: [...ipc].sort(byString).map((path) => ({ path })),
    clock,
    assertions: [...assertions.entries()].map(([id, description]) => (description === undefined ? { id } : { id, description })).sort((a, b) => byString(a.id, b.id)),
    declared: [...new Set(capabilities.map(capabilityText))].sort(byString),
  };
}
