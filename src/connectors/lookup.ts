import type { Env } from '../env';
import { openFetchedSecret, openSecret, type VaultResult } from '../vault';
import {
  cachedConnector,
  CONNECTOR_SECRET_NAMES,
  VERIFICATION_SECRET,
  type ConnectorLookup,
  type ConnectorRecord,
  type FetchedConnector,
} from '../webhooks';

/**
 * The webhook routes' view of a connector: the row plus the platform's verification secret
 * opened from the vault. The row and the sealed secrets come from this isolate's copy (no
 * call; only with `allowIsolateCopy`; marked `isolateCopy`, at most ISOLATE_RECORD_TTL_MS
 * old) or else from the connector's ConnectorRecordCache object (src/webhooks; one warm
 * Durable Object call, one D1 join when cold), and the Worker opens the verification
 * envelope (one decryption). The bot token's envelope comes with it but is opened only if
 * the reply path asks (`openBotToken`).
 * Unknown, deleted and other-platform connectors are null alike. An envelope the keyring
 * cannot open (sealed under a key since retired) makes the cache read D1 again, once; a
 * vault failure after that throws: the hook then answers 500 rather than verifying against
 * nothing.
 */
export const lookupConnector: ConnectorLookup = async (env, platform, connectorId, options = {}) => {
  let found = await cachedConnector(env, platform, connectorId, options.allowIsolateCopy ? 'isolate' : 'object');
  let record = found.value;
  if (!record) return null;
  const field = VERIFICATION_SECRET[platform];
  const secrets: ConnectorRecord['secrets'] = {};
  if (field) {
    let opened = await openHeld(env, record, CONNECTOR_SECRET_NAMES[field], record.verificationEnvelope);
    if (!opened.ok && opened.problem.kind !== 'not-found') {
      found = await cachedConnector(env, platform, connectorId, 'reload');
      record = found.value;
      if (!record) return null;
      opened = await openHeld(env, record, CONNECTOR_SECRET_NAMES[field], record.verificationEnvelope);
    }
    const value = valueOf(opened);
    if (value !== null) secrets[field] = value;
  }
  if (record.publicKey) secrets.publicKey = record.publicKey;
  const held = record;
  return {
    platform: held.platform,
    agentId: held.agentId,
    workspaceId: held.workspaceId,
    agentHasModel: held.agentHasModel,
    ...(found.isolateCopy ? { isolateCopy: true as const } : {}),
    secrets,
    // From the envelope the cache holds; from D1 only if the keyring no longer opens it.
    openBotToken: async () => {
      const name = CONNECTOR_SECRET_NAMES.botToken;
      const opened = await openHeld(env, held, name, held.botTokenEnvelope);
      return valueOf(opened.ok || opened.problem.kind === 'not-found' ? opened : await openSecret(env, secretRef(held, name)));
    },
  };
};

function secretRef(record: FetchedConnector, name: string) {
  return { workspaceId: record.workspaceId, ownerKind: 'connector' as const, ownerId: record.id, name };
}

/** Opens an envelope the cache read with the record (its AAD is the secret's ref). */
function openHeld(env: Env, record: FetchedConnector, name: string, envelope: string | null): Promise<VaultResult<string>> {
  return openFetchedSecret(env, secretRef(record, name), envelope);
}

function valueOf(opened: VaultResult<string>): string | null {
  if (opened.ok) return opened.value;
  if (opened.problem.kind === 'not-found') return null;
  throw new Error(`vault: ${opened.problem.kind}`);
}
