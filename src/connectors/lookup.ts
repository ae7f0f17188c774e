import { eq } from 'drizzle-orm';
import { connectors, createDb } from '../db';
import type { Env } from '../env';
import { openSecret } from '../vault';
import type { ConnectorLookup, ConnectorRecord, Platform } from '../webhooks';

/** Vault names of connector secrets (owner kind `connector`, owner id = connector id). */
export const CONNECTOR_SECRET_NAMES = { botToken: 'BOT_TOKEN', signingSecret: 'SIGNING_SECRET', secretToken: 'SECRET_TOKEN' } as const;

/** The one vault secret each platform verifies with (Discord's public key is not secret: it is in the row). */
const VERIFICATION_SECRET: Readonly<Record<Platform, 'signingSecret' | 'secretToken' | null>> = {
  discord: null,
  slack: 'signingSecret',
  telegram: 'secretToken',
};

/**
 * The webhook routes' view of a connector: the row plus the platform's verification secret
 * opened from the vault (one row read, at most one vault open). The bot token is opened
 * only if the reply path asks (`openBotToken`). Unknown and deleted connectors (rows are
 * deleted) are null alike. A vault failure throws: the hook then answers 500 rather than
 * verifying against nothing.
 */
export const lookupConnector: ConnectorLookup = async (
  env: Env,
  platform: Platform,
  connectorId: string,
): Promise<ConnectorRecord | null> => {
  const [row] = await createDb(env.DB).select().from(connectors).where(eq(connectors.id, connectorId)).limit(1);
  if (!row || row.platform !== platform) return null;
  const open = async (field: keyof typeof CONNECTOR_SECRET_NAMES): Promise<string | null> => {
    const opened = await openSecret(env, {
      workspaceId: row.workspaceId,
      ownerKind: 'connector',
      ownerId: row.id,
      name: CONNECTOR_SECRET_NAMES[field],
    });
    if (opened.ok) return opened.value;
    if (opened.problem.kind === 'not-found') return null;
    throw new Error(`vault: ${opened.problem.kind}`);
  };
  const secrets: ConnectorRecord['secrets'] = {};
  if (row.publicKey) secrets.publicKey = row.publicKey;
  const field = VERIFICATION_SECRET[row.platform];
  if (field) {
    const value = await open(field);
    if (value !== null) secrets[field] = value;
  }
  return { platform: row.platform, agentId: row.agentId, workspaceId: row.workspaceId, secrets, openBotToken: () => open('botToken') };
};
