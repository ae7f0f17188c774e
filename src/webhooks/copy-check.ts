import type { Env } from '../env';
import type { Platform } from './inbound';
import type { ConnectorLookup, ConnectorRecord, PlatformAdapter } from './pipeline';

/** What a verification is made of, kept so the same request can be checked again against another record. */
export interface VerifyRequest {
  raw: Uint8Array;
  header: (name: string) => string | undefined;
  /** The moment of the first check: a second one (Slack's replay window) uses the same. */
  now: number;
}

/**
 * The connector object's record, never this isolate's copy (connector-cache-object.ts); null,
 * as for an unknown id, when it knows none of this platform. A lookup that answers with a
 * copy anyway cannot vouch for anything: null too (fail closed).
 */
export async function objectRecord(lookup: ConnectorLookup, env: Env, platform: Platform, connectorId: string) {
  const current = await lookup(env, platform, connectorId);
  return current && current.platform === platform && !current.isolateCopy ? current : null;
}

/**
 * Whether a request verified against this isolate's copy counts: the object's record, when
 * it is the same connector of the same agent and workspace and the request verifies against
 * it too; null when the connector was deleted, moved, or its secret replaced by one the
 * request was not signed with.
 */
export async function confirmCopy(
  deps: { lookup: ConnectorLookup; adapter: PlatformAdapter; env: Env },
  connectorId: string,
  copy: ConnectorRecord,
  request: VerifyRequest,
): Promise<ConnectorRecord | null> {
  const current = await objectRecord(deps.lookup, deps.env, deps.adapter.platform, connectorId);
  if (!current || current.agentId !== copy.agentId || current.workspaceId !== copy.workspaceId) return null;
  return (await deps.adapter.verify({ record: current, ...request })).ok ? current : null;
}
