import { and, asc, eq, inArray } from 'drizzle-orm';
import { recordAudit } from '../audit';
import { principalOf, secured, signedIn, type Clock } from '../auth';
import { agents, connectors, createDb, newId, vaultSecrets, type Database } from '../db';
import { ApiError, createRouter, errorResponses, jsonContent } from '../http';
import { isolationAllowed } from './isolation';
import { AgentIdParams, AgentList, AgentUpdated, AgentView, CreateAgent, UpdateAgent } from './schemas';

const json = jsonContent;

const listRoute = secured({ method: 'get', path: '/api/v1/agents', operationId: 'listAgents', summary: 'Agents of your workspace (scope agents:read)', responses: { 200: { description: 'Agents', ...json(AgentList) }, ...errorResponses(401, 403) } }, signedIn('agents:read'));
const createAgentRoute = secured({
  method: 'post',
  path: '/api/v1/agents',
  operationId: 'createAgent',
  summary: 'Create an agent (scope agents:write)',
  request: { body: { required: true, ...json(CreateAgent) } },
  responses: { 201: { description: 'Created', ...json(AgentView) }, ...errorResponses(400, 401, 403) },
}, signedIn('agents:write'));
const getRoute = secured({ method: 'get', path: '/api/v1/agents/{id}', operationId: 'getAgent', summary: 'One agent (scope agents:read)', request: { params: AgentIdParams }, responses: { 200: { description: 'Agent', ...json(AgentView) }, ...errorResponses(401, 403, 404) } }, signedIn('agents:read'));
const patchRoute = secured({
  method: 'patch',
  path: '/api/v1/agents/{id}',
  operationId: 'updateAgent',
  summary: 'Change an agent (scope agents:write); an isolation change applies to new sandboxes only',
  request: { params: AgentIdParams, body: { required: true, ...json(UpdateAgent) } },
  responses: { 200: { description: 'Updated', ...json(AgentUpdated) }, ...errorResponses(400, 401, 403, 404) },
}, signedIn('agents:write'));
const deleteRoute = secured({
  method: 'delete',
  path: '/api/v1/agents/{id}',
  operationId: 'deleteAgent',
  summary: 'Delete an agent with its connectors and tools (scope agents:write)',
  request: { params: AgentIdParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
}, signedIn('agents:write'));

type AgentRow = typeof agents.$inferSelect;
export function agentView(row: AgentRow) {
  return { id: row.id, name: row.name, description: row.description, settings: row.settings, isolation: row.isolation, createdAt: row.createdAt, updatedAt: row.updatedAt };
}

/** The agent with this id in the caller's workspace, or 404 (a foreign id looks missing). */
export async function findAgent(db: Database, workspaceId: string, id: string): Promise<AgentRow> {
  const [row] = await db.select().from(agents).where(and(eq(agents.id, id), eq(agents.workspaceId, workspaceId))).limit(1);
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

function refuseIsolation(): ApiError {
  return new ApiError('POLICY_DENIED', 'Isolation "unrestricted" is disabled on this deployment.');
}

/** Agents CRUD. */
export function agentRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(listRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    const rows = await createDb(c.env.DB).select().from(agents).where(eq(agents.workspaceId, workspaceId)).orderBy(asc(agents.createdAt));
    return c.json({ agents: rows.map(agentView) }, 200);
  });

  router.openapi(createAgentRoute, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid('json');
    // Default: a container where the deployment runs tools in containers (production), the
    // local bubblewrap sandbox where it runs them locally (wrangler dev, self-hosted Linux).
    const isolation = body.isolation ?? (c.env.TOOL_EXECUTOR === 'local' ? 'sandbox' : 'container');
    if (!isolationAllowed(isolation, c.env)) throw refuseIsolation();
    const at = now();
    const row: AgentRow = {
      id: newId('agt'),
      workspaceId: principal.workspaceId,
      name: body.name,
      description: body.description ?? '',
      settings: body.settings ?? {},
      isolation,
      createdAt: at,
      updatedAt: at,
    };
    await createDb(c.env.DB).insert(agents).values(row);
    await recordAudit(c.env, { workspaceId: row.workspaceId, kind: 'agent.created', actor: `user:${principal.userId}`, data: { agentId: row.id, name: row.name, isolation } }, at);
    return c.json(agentView(row), 201);
  });

  router.openapi(getRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    return c.json(agentView(await findAgent(createDb(c.env.DB), workspaceId, c.req.valid('param').id)), 200);
  });

  router.openapi(patchRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const current = await findAgent(db, principal.workspaceId, c.req.valid('param').id);
    const body = c.req.valid('json');
    if (body.isolation && !isolationAllowed(body.isolation, c.env)) throw refuseIsolation();
    const at = now();
    const next: AgentRow = { ...current, ...body, description: body.description ?? current.description, settings: body.settings ?? current.settings, updatedAt: at };
    await db.update(agents).set({ name: next.name, description: next.description, settings: next.settings, isolation: next.isolation, updatedAt: at }).where(eq(agents.id, current.id));
    const isolationChanged = next.isolation !== current.isolation;
    await recordAudit(
      c.env,
      { workspaceId: current.workspaceId, kind: 'agent.updated', actor: `user:${principal.userId}`, data: { agentId: current.id, fields: Object.keys(body), isolationFrom: current.isolation, isolationTo: next.isolation } },
      at,
    );
    const note = isolationChanged ? 'Isolation changes apply to new sandboxes only; running sandboxes keep their isolation until they stop.' : undefined;
    return c.json({ ...agentView(next), ...(note ? { note } : {}) }, 200);
  });

  router.openapi(deleteRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const current = await findAgent(db, principal.workspaceId, c.req.valid('param').id);
    const at = now();
    // Connector rows cascade with the agent; their vault secrets are keyed by connector id, so
    // they are deleted explicitly in the same transaction.
    await db.batch([
      db
        .delete(vaultSecrets)
        .where(
          and(
            eq(vaultSecrets.workspaceId, current.workspaceId),
            eq(vaultSecrets.ownerKind, 'connector'),
            inArray(vaultSecrets.ownerId, db.select({ id: connectors.id }).from(connectors).where(eq(connectors.agentId, current.id))),
          ),
        ),
      db.delete(agents).where(eq(agents.id, current.id)),
    ]);
    await recordAudit(c.env, { workspaceId: current.workspaceId, kind: 'agent.deleted', actor: `user:${principal.userId}`, data: { agentId: current.id } }, at);
    return c.body(null, 204);
  });

  return router;
}
