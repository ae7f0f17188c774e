import { eq } from 'drizzle-orm';
import { connectors, createDb } from '../db';
import type { Env } from '../env';
import { listSecrets, openSecret } from '../vault';
import type { ConnectorLookup, ConnectorRecord, Platform } from '../webhooks';

/** Vault names of connector secrets (owner kind `connector`, owner id = connector id). */
export const CONNECTOR_SECRET_NAMES = { botToken: 'BOT_TOKEN', signingSecret: 'SIGNING_SECRET', secretToken: 'SECRET_TOKEN' } as const;

/**
 * The webhook routes' view of a connector: the row plus its secrets opened from the vault.
 * Unknown and deleted connectors (rows are deleted) are null alike. A vault failure throws:
 * the hook then answers 500 rather than verifying against nothing.
 */
export const lookupConnector: ConnectorLookup = async (env: Env, platform: Platform, connectorId: string): Promise<ConnectorRecord | null> => {
  const [row] = await createDb(env.DB).select().from(connectors).where(eq(connectors.id, connectorId)).limit(1);
  if (!row || row.platform !== platform) return null;
  const secrets: ConnectorRecord['secrets'] = {};
  if (row.publicKey) secrets.publicKey = row.publicKey;
  const ref = (name: string) => ({ workspaceId: row.workspaceId, ownerKind: 'connector' as const, ownerId: row.id, name });
  const stored = await listSecrets(env, { workspaceId: row.workspaceId, ownerKind: 'connector', ownerId: row.id });
  if (!stored.ok) throw new Error(`vault: ${stored.problem.kind}`);
  for (const [field, name] of Object.entries(CONNECTOR_SECRET_NAMES) as Array<[keyof typeof CONNECTOR_SECRET_NAMES, string]>) {
    if (!stored.value.some((s) => s.name === name)) continue;
    const opened = await openSecret(env, ref(name));
    if (!opened.ok) throw new Error(`vault: ${opened.problem.kind}`);
    secrets[field] = opened.value;
  }
  return { platform: row.platform, agentId: row.agentId, workspaceId: row.workspaceId, secrets };
};
