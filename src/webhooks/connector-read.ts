import { and, eq } from 'drizzle-orm';
import { alias, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { agents, connectors, createDb, vaultSecrets } from '../db';
import type { Env } from '../env';
import type { Platform } from './inbound';

/** Vault names of connector secrets (owner kind `connector`, owner id = connector id). */
export const CONNECTOR_SECRET_NAMES = { botToken: 'BOT_TOKEN', signingSecret: 'SIGNING_SECRET', secretToken: 'SECRET_TOKEN' } as const;

/** The one vault secret each platform verifies with (Discord's public key is not secret: it is in the row). */
export const VERIFICATION_SECRET: Readonly<Record<Platform, 'signingSecret' | 'secretToken' | null>> = {
  discord: null,
  slack: 'signingSecret',
  telegram: 'secretToken',
};

/** What the webhook path needs of a connector, its verification secret still sealed (null: none stored). */
export interface FetchedConnector {
  id: string;
  platform: Platform;
  agentId: string;
  workspaceId: string;
  publicKey: string | null;
  verificationEnvelope: string | null;
  /** The bot token's envelope, for the reply path (null: none stored). */
  botTokenEnvelope: string | null;
  /** Whether the connector's agent has a model (a runtime) when read; updateAgent tells the cache when that changes. */
  agentHasModel: boolean;
}

const verification = alias(vaultSecrets, 'verification');
const botToken = alias(vaultSecrets, 'bot_token');

/** The join condition of one of a connector's vault secrets (owner kind `connector`, owner id = connector id). */
function secretOfConnector(secret: Record<'workspaceId' | 'ownerKind' | 'ownerId' | 'name', AnySQLiteColumn>, name: string) {
  return and(
    eq(secret.workspaceId, connectors.workspaceId),
    eq(secret.ownerKind, 'connector'),
    eq(secret.ownerId, connectors.id),
    eq(secret.name, name),
  );
}

/**
 * One D1 query: the connector row joined with its agent (whether it has a model) and with the
 * envelopes of the route platform's verification secret and of the bot token. null for
 * unknown ids, for a connector of another platform and for one whose agent is gone.
 */
export async function readConnector(env: Pick<Env, 'DB'>, platform: Platform, connectorId: string): Promise<FetchedConnector | null> {
  const field = VERIFICATION_SECRET[platform];
  const [found] = await createDb(env.DB)
    .select({ row: connectors, agentModel: agents.model, envelope: verification.envelope, botTokenEnvelope: botToken.envelope })
    .from(connectors)
    .innerJoin(agents, and(eq(agents.id, connectors.agentId), eq(agents.workspaceId, connectors.workspaceId)))
    .leftJoin(verification, secretOfConnector(verification, field ? CONNECTOR_SECRET_NAMES[field] : ''))
    .leftJoin(botToken, secretOfConnector(botToken, CONNECTOR_SECRET_NAMES.botToken))
    .where(eq(connectors.id, connectorId))
    .limit(1);
  if (!found || found.row.platform !== platform) return null;
  const { row } = found;
  return {
    id: row.id,
    platform: row.platform,
    agentId: row.agentId,
    workspaceId: row.workspaceId,
    publicKey: row.publicKey ?? null,
    verificationEnvelope: found.envelope ?? null,
    botTokenEnvelope: found.botTokenEnvelope ?? null,
    agentHasModel: found.agentModel !== null && found.agentModel !== undefined,
  };
}
