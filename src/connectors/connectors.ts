import { and, asc, eq } from 'drizzle-orm';
import { agentInWorkspace } from '../agents';
import { recordAudit, type AuditBindings } from '../audit';
import { randomToken, type Clock, type Principal } from '../auth';
import { connectors, createDb, newId, vaultSecrets } from '../db';
import { done, refused, type Outcome } from '../http';
import { listSecrets, loadVault, sealSecret, type VaultBindings, type VaultProblem } from '../vault';
import { CONNECTOR_SECRET_NAMES, forgetConnector, type RecordCacheBindings } from '../webhooks';
import type { CreateConnectorInput } from './schemas';

/**
 * Connectors as domain functions ((env, actor, input, clock) → outcome), testable without
 * HTTP. A vault failure is its own tag (`vaultProblem`), mapped by the vault's own
 * vaultProblemToApiError; every other refusal is a DomainProblem. Connector ids are 128-bit random.
 */
export type ConnectorBindings = VaultBindings & AuditBindings & RecordCacheBindings;
export type ConnectorOutcome<T> = Outcome<T> | { ok: false; vaultProblem: VaultProblem };

type ConnectorRow = typeof connectors.$inferSelect;
export type ConnectorViewValue = ReturnType<typeof view>;

function view(row: ConnectorRow, masked: Record<string, string>) {
  return {
    id: row.id,
    agentId: row.agentId,
    platform: row.platform,
    applicationId: row.applicationId,
    publicKey: row.publicKey,
    webhookPath: `/hooks/${row.platform}/${row.id}`,
    secrets: masked,
    createdAt: row.createdAt,
  };
}

/** The secrets a create request carries, by vault name; Telegram gets a generated secret token when none is given. */
function secretsOf(body: CreateConnectorInput): { secrets: Record<string, string>; generatedSecretToken?: string } {
  switch (body.platform) {
    case 'discord':
      return { secrets: body.botToken ? { [CONNECTOR_SECRET_NAMES.botToken]: body.botToken } : {} };
    case 'slack':
      return {
        secrets: {
          [CONNECTOR_SECRET_NAMES.signingSecret]: body.signingSecret,
          ...(body.botToken ? { [CONNECTOR_SECRET_NAMES.botToken]: body.botToken } : {}),
        },
      };
    case 'telegram': {
      // 256 random bits, base64url: inside Telegram's allowed alphabet [A-Za-z0-9_-].
      const generated = body.secretToken ? undefined : randomToken();
      const secretToken = body.secretToken ?? generated ?? '';
      return {
        secrets: { [CONNECTOR_SECRET_NAMES.botToken]: body.botToken, [CONNECTOR_SECRET_NAMES.secretToken]: secretToken },
        ...(generated ? { generatedSecretToken: generated } : {}),
      };
    }
  }
}

export async function listConnectors(
  env: ConnectorBindings,
  actor: Principal,
  agentId: string,
): Promise<ConnectorOutcome<ConnectorViewValue[]>> {
  const db = createDb(env.DB);
  const agent = await agentInWorkspace(db, actor.workspaceId, agentId);
  if (!agent) return refused({ kind: 'not-found' });
  const rows = await db.select().from(connectors).where(eq(connectors.agentId, agent.id)).orderBy(asc(connectors.createdAt));
  const stored = await listSecrets(env, { workspaceId: actor.workspaceId, ownerKind: 'connector' });
  if (!stored.ok) return { ok: false, vaultProblem: stored.problem };
  const masksFor = (id: string) => Object.fromEntries(stored.value.filter((s) => s.ownerId === id).map((s) => [s.name, s.masked]));
  return done(rows.map((row) => view(row, masksFor(row.id))));
}

export async function createConnector(
  env: ConnectorBindings,
  actor: Principal,
  input: { agentId: string; body: CreateConnectorInput },
  now: Clock,
): Promise<ConnectorOutcome<ConnectorViewValue & { secretToken?: string }>> {
  const db = createDb(env.DB);
  const agent = await agentInWorkspace(db, actor.workspaceId, input.agentId);
  if (!agent) return refused({ kind: 'not-found' });
  const { body } = input;
  const vault = await loadVault(env);
  if (!vault.ok) return { ok: false, vaultProblem: vault.problem };
  const at = now();
  const row: ConnectorRow = {
    id: newId('con'),
    workspaceId: actor.workspaceId,
    agentId: agent.id,
    platform: body.platform,
    applicationId: body.platform === 'discord' ? body.applicationId : null,
    publicKey: body.platform === 'discord' ? body.publicKey : null,
    createdAt: at,
  };
  const { secrets, generatedSecretToken } = secretsOf(body);
  const masked: Record<string, string> = {};
  // Secrets first, row last: a connector is only reachable once everything it needs exists.
  for (const [name, value] of Object.entries(secrets)) {
    const sealed = await sealSecret(vault.value, { workspaceId: row.workspaceId, ownerKind: 'connector', ownerId: row.id, name }, value, {
      now: at,
    });
    if (!sealed.ok) return { ok: false, vaultProblem: sealed.problem };
    masked[name] = sealed.value.secret.masked;
  }
  await db.insert(connectors).values(row);
  // An id probed before it existed is held as unknown by the webhook path's cache.
  await forgetConnector(env, row.platform, row.id);
  await recordAudit(
    env,
    {
      workspaceId: row.workspaceId,
      kind: 'connector.created',
      actor: `user:${actor.userId}`,
      data: { agentId: agent.id, connectorId: row.id, platform: row.platform },
    },
    at,
  );
  return done({ ...view(row, masked), ...(generatedSecretToken ? { secretToken: generatedSecretToken } : {}) });
}

export async function deleteConnector(
  env: ConnectorBindings,
  actor: Principal,
  input: { agentId: string; connectorId: string },
  now: Clock,
): Promise<ConnectorOutcome<{ deleted: true }>> {
  const db = createDb(env.DB);
  const agent = await agentInWorkspace(db, actor.workspaceId, input.agentId);
  if (!agent) return refused({ kind: 'not-found' });
  const [row] = await db
    .select()
    .from(connectors)
    .where(and(eq(connectors.id, input.connectorId), eq(connectors.agentId, agent.id)))
    .limit(1);
  if (!row) return refused({ kind: 'not-found' });
  await db.batch([
    db.delete(connectors).where(eq(connectors.id, row.id)),
    db
      .delete(vaultSecrets)
      .where(and(eq(vaultSecrets.workspaceId, row.workspaceId), eq(vaultSecrets.ownerKind, 'connector'), eq(vaultSecrets.ownerId, row.id))),
  ]);
  // After the delete committed: the next webhook for it reads D1 again and gets the 404.
  await forgetConnector(env, row.platform, row.id);
  await recordAudit(
    env,
    {
      workspaceId: row.workspaceId,
      kind: 'connector.deleted',
      actor: `user:${actor.userId}`,
      data: { agentId: agent.id, connectorId: row.id, platform: row.platform },
    },
    now(),
  );
  return done({ deleted: true });
}
