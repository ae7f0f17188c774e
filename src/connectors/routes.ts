import { and, asc, eq } from 'drizzle-orm';
import { findAgent } from '../agents';
import { recordAudit } from '../audit';
import { principalOf, randomToken, secured, signedIn, type Clock } from '../auth';
import { connectors, createDb, newId, vaultSecrets } from '../db';
import { ApiError, createRouter, errorResponses, jsonContent } from '../http';
import { listSecrets, requireVault, sealSecret, vaultProblemToApiError } from '../vault';
import { CONNECTOR_SECRET_NAMES } from './lookup';
import { AgentParams, ConnectorCreated, ConnectorList, ConnectorParams, CreateConnector, type CreateConnectorInput } from './schemas';

const json = jsonContent;

const listRoute = secured({ method: 'get', path: '/api/v1/agents/{id}/connectors', operationId: 'listConnectors', summary: 'Connectors of an agent (scope agents:read)', request: { params: AgentParams }, responses: { 200: { description: 'Connectors', ...json(ConnectorList) }, ...errorResponses(401, 403, 404) } }, signedIn('agents:read'));
const createConnectorRoute = secured({
  method: 'post',
  path: '/api/v1/agents/{id}/connectors',
  operationId: 'createConnector',
  summary: 'Add a Discord, Slack or Telegram connector (scope agents:write); secrets go to the vault',
  request: { params: AgentParams, body: { required: true, ...json(CreateConnector) } },
  responses: { 201: { description: 'Created', ...json(ConnectorCreated) }, ...errorResponses(400, 401, 403, 404, 503) },
}, signedIn('agents:write'));
const deleteRoute = secured({
  method: 'delete',
  path: '/api/v1/agents/{id}/connectors/{cid}',
  operationId: 'deleteConnector',
  summary: 'Delete a connector and its secrets; its webhook URL answers 404 from then on (scope agents:write)',
  request: { params: ConnectorParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
}, signedIn('agents:write'));

type ConnectorRow = typeof connectors.$inferSelect;

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
      return { secrets: { [CONNECTOR_SECRET_NAMES.signingSecret]: body.signingSecret, ...(body.botToken ? { [CONNECTOR_SECRET_NAMES.botToken]: body.botToken } : {}) } };
    case 'telegram': {
      // 256 random bits, base64url: inside Telegram's allowed alphabet [A-Za-z0-9_-].
      const generated = body.secretToken ? undefined : randomToken();
      const secretToken = body.secretToken ?? generated ?? '';
      return { secrets: { [CONNECTOR_SECRET_NAMES.botToken]: body.botToken, [CONNECTOR_SECRET_NAMES.secretToken]: secretToken }, ...(generated ? { generatedSecretToken: generated } : {}) };
    }
  }
}

/** Connectors: the webhook endpoints of an agent. Connector ids are 128-bit random. */
export function connectorRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(listRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    const db = createDb(c.env.DB);
    const agent = await findAgent(db, workspaceId, c.req.valid('param').id);
    const rows = await db.select().from(connectors).where(eq(connectors.agentId, agent.id)).orderBy(asc(connectors.createdAt));
    const stored = await listSecrets(c.env, { workspaceId, ownerKind: 'connector' });
    if (!stored.ok) throw vaultProblemToApiError(stored.problem, c.get('requestId'));
    const masksFor = (id: string) => Object.fromEntries(stored.value.filter((s) => s.ownerId === id).map((s) => [s.name, s.masked]));
    return c.json({ connectors: rows.map((row) => view(row, masksFor(row.id))) }, 200);
  });

  router.openapi(createConnectorRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const agent = await findAgent(db, principal.workspaceId, c.req.valid('param').id);
    const body = c.req.valid('json');
    const vault = await requireVault(c.env, c.get('requestId'));
    const at = now();
    const row: ConnectorRow = {
      id: newId('con'),
      workspaceId: principal.workspaceId,
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
      const sealed = await sealSecret(vault, { workspaceId: row.workspaceId, ownerKind: 'connector', ownerId: row.id, name }, value, { now: at });
      if (!sealed.ok) throw vaultProblemToApiError(sealed.problem, c.get('requestId'));
      masked[name] = sealed.value.secret.masked;
    }
    await db.insert(connectors).values(row);
    await recordAudit(c.env, { workspaceId: row.workspaceId, kind: 'connector.created', actor: `user:${principal.userId}`, data: { agentId: agent.id, connectorId: row.id, platform: row.platform } }, at);
    return c.json({ ...view(row, masked), ...(generatedSecretToken ? { secretToken: generatedSecretToken } : {}) }, 201);
  });

  router.openapi(deleteRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const { id, cid } = c.req.valid('param');
    const agent = await findAgent(db, principal.workspaceId, id);
    const [row] = await db.select().from(connectors).where(and(eq(connectors.id, cid), eq(connectors.agentId, agent.id))).limit(1);
    if (!row) throw new ApiError('NOT_FOUND');
    await db.batch([
      db.delete(connectors).where(eq(connectors.id, row.id)),
      db.delete(vaultSecrets).where(and(eq(vaultSecrets.workspaceId, row.workspaceId), eq(vaultSecrets.ownerKind, 'connector'), eq(vaultSecrets.ownerId, row.id))),
    ]);
    await recordAudit(c.env, { workspaceId: row.workspaceId, kind: 'connector.deleted', actor: `user:${principal.userId}`, data: { agentId: agent.id, connectorId: row.id, platform: row.platform } }, now());
    return c.body(null, 204);
  });

  return router;
}
