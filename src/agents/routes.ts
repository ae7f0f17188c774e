import { principalOf, secured, signedIn, type Clock } from '../auth';
import { createRouter, errorResponses, jsonContent, valueOf } from '../http';
import { createAgent, deleteAgent, getAgent, listAgents, updateAgent, type AgentDeletionHook } from './agents';
import { AgentIdParams, AgentList, AgentUpdated, AgentView, CreateAgent, UpdateAgent } from './schemas';

const json = jsonContent;

const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/agents',
    operationId: 'listAgents',
    summary: 'Agents of your workspace (scope agents:read)',
    responses: { 200: { description: 'Agents', ...json(AgentList) }, ...errorResponses(401, 403) },
  },
  signedIn('agents:read'),
);
const createAgentRoute = secured(
  {
    method: 'post',
    path: '/api/v1/agents',
    operationId: 'createAgent',
    summary: 'Create an agent (scope agents:write)',
    request: { body: { required: true, ...json(CreateAgent) } },
    responses: { 201: { description: 'Created', ...json(AgentView) }, ...errorResponses(400, 401, 403) },
  },
  signedIn('agents:write'),
);
const getRoute = secured(
  {
    method: 'get',
    path: '/api/v1/agents/{id}',
    operationId: 'getAgent',
    summary: 'One agent (scope agents:read)',
    request: { params: AgentIdParams },
    responses: { 200: { description: 'Agent', ...json(AgentView) }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:read'),
);
const patchRoute = secured(
  {
    method: 'patch',
    path: '/api/v1/agents/{id}',
    operationId: 'updateAgent',
    summary: 'Change an agent (scope agents:write); an isolation change applies to new sandboxes only',
    request: { params: AgentIdParams, body: { required: true, ...json(UpdateAgent) } },
    responses: { 200: { description: 'Updated', ...json(AgentUpdated) }, ...errorResponses(400, 401, 403, 404) },
  },
  signedIn('agents:write'),
);
const deleteRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/agents/{id}',
    operationId: 'deleteAgent',
    summary: 'Delete an agent with its connectors and tools (scope agents:write)',
    request: { params: AgentIdParams },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:write'),
);

/** Agents CRUD: parse, call the domain function (agents.ts), map a refusal (problemToApiError via valueOf). */
export function agentRoutes(now: Clock, hooks: { beforeDelete?: AgentDeletionHook } = {}) {
  const router = createRouter();

  router.openapi(listRoute, async (c) => c.json({ agents: valueOf(await listAgents(c.env, principalOf(c))) }, 200));

  router.openapi(createAgentRoute, async (c) => c.json(valueOf(await createAgent(c.env, principalOf(c), c.req.valid('json'), now)), 201));

  router.openapi(getRoute, async (c) => c.json(valueOf(await getAgent(c.env, principalOf(c), c.req.valid('param').id)), 200));

  router.openapi(patchRoute, async (c) => {
    const input = { id: c.req.valid('param').id, changes: c.req.valid('json') };
    return c.json(valueOf(await updateAgent(c.env, principalOf(c), input, now)), 200);
  });

  router.openapi(deleteRoute, async (c) => {
    valueOf(await deleteAgent(c.env, principalOf(c), c.req.valid('param').id, now, hooks.beforeDelete));
    return c.body(null, 204);
  });

  return router;
}
