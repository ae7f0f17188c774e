import type { Env } from '../env';
import { openFetchedSecret, openSecret, type VaultResult } from '../vault';
import {
  cachedConnector,
  CONNECTOR_SECRET_NAMES,
  VERIFICATION_SECRET,
  type ConnectorLookup,
  type ConnectorRecord,
  type FetchedConnector,
  type Platform,
} from '../webhooks';

export { CONNECTOR_SECRET_NAMES } from '../webhooks';

/**
 * The webhook routes' view of a connector: the row plus the platform's verification secret
 * opened from the vault. The row and the sealed secret come from the connector's
 * ConnectorRecordCache object (src/webhooks; one warm Durable Object call; one D1 join when cold), and the
 * Worker opens the envelope (one decryption). The bot token's envelope comes with it but is
 * opened only if the reply path asks (`openBotToken`). Unknown, deleted and other-platform connectors are null alike. An
 * envelope the keyring cannot open (sealed under a key since retired) is read again from D1
 * once; a vault failure after that throws: the hook then answers 500 rather than verifying
 * against nothing.
 */
export const lookupConnector: ConnectorLookup = async (env: Env, platform: Platform, connectorId: string) => {
  const cached = await cachedConnector(env, platform, connectorId);
  if (!cached) return null;
  const field = VERIFICATION_SECRET[platform];
  let opened = field ? await openVerification(env, cached, field) : null;
  if (opened && !opened.ok && opened.problem.kind !== 'not-found') {
    const fresh = await cachedConnector(env, platform, connectorId, true);
    if (!fresh) return null;
    opened = field ? await openVerification(env, fresh, field) : null;
  }
  const refOf = (name: string) => ({ workspaceId: cached.workspaceId, ownerKind: 'connector' as const, ownerId: cached.id, name });
  const secrets: ConnectorRecord['secrets'] = {};
  if (cached.publicKey) secrets.publicKey = cached.publicKey;
  const value = opened ? valueOf(opened) : null;
  if (field && value !== null) secrets[field] = value;
  return {
    platform: cached.platform,
    agentId: cached.agentId,
    workspaceId: cached.workspaceId,
    secrets,
    // From the envelope the cache already holds; read from D1 only if the keyring no longer opens it.
    openBotToken: async () => {
      const ref = refOf(CONNECTOR_SECRET_NAMES.botToken);
      const held = await openFetchedSecret(env, ref, cached.botTokenEnvelope);
      return valueOf(held.ok || held.problem.kind === 'not-found' ? held : await openSecret(env, ref));
    },
  };
};

function openVerification(env: Env, record: FetchedConnector, field: 'signingSecret' | 'secretToken'): Promise<VaultResult<string>> {
  const ref = { workspaceId: record.workspaceId, ownerKind: 'connector' as const, ownerId: record.id, name: CONNECTOR_SECRET_NAMES[field] };
  return openFetchedSecret(env, ref, record.verificationEnvelope);
}

function valueOf(opened: VaultResult<string>): string | null {
  if (opened.ok) return opened.value;
  if (opened.problem.kind === 'not-found') return null;
  throw new Error(`vault: ${opened.problem.kind}`);
}
