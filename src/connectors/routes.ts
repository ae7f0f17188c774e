import { principalOf, secured, signedIn, type Clock } from '../auth';
import { createRouter, errorResponses, jsonContent, problemToApiError } from '../http';
import { vaultProblemToApiError } from '../vault';
import { createConnector, deleteConnector, listConnectors, type ConnectorOutcome } from './connectors';
import { AgentParams, ConnectorCreated, ConnectorList, ConnectorParams, CreateConnector } from './schemas';

const json = jsonContent;

const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/agents/{id}/connectors',
    operationId: 'listConnectors',
    summary: 'Connectors of an agent (scope agents:read)',
    request: { params: AgentParams },
    responses: { 200: { description: 'Connectors', ...json(ConnectorList) }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:read'),
);
const createConnectorRoute = secured(
  {
    method: 'post',
    path: '/api/v1/agents/{id}/connectors',
    operationId: 'createConnector',
    summary: 'Add a Discord, Slack or Telegram connector (scope agents:write); secrets go to the vault',
    request: { params: AgentParams, body: { required: true, ...json(CreateConnector) } },
    responses: { 201: { description: 'Created', ...json(ConnectorCreated) }, ...errorResponses(400, 401, 403, 404, 503) },
  },
  signedIn('agents:write'),
);
const deleteRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/agents/{id}/connectors/{cid}',
    operationId: 'deleteConnector',
    summary: 'Delete a connector and its secrets; its webhook URL answers 404 from then on (scope agents:write)',
    request: { params: ConnectorParams },
    responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:write'),
);

/** A connector outcome as a wire answer: vault problems through the vault's mapping, the rest through problemToApiError. */
function valueOrThrow<T>(result: ConnectorOutcome<T>, requestId: string): T {
  if (result.ok) return result.value;
  if ('vaultProblem' in result) throw vaultProblemToApiError(result.vaultProblem, requestId);
  throw problemToApiError(result.problem);
}

/** Connectors: the webhook endpoints of an agent (rules in connectors.ts): parse, call, map. */
export function connectorRoutes(now: Clock) {
  const router = createRouter();

  router.openapi(listRoute, async (c) =>
    c.json({ connectors: valueOrThrow(await listConnectors(c.env, principalOf(c), c.req.valid('param').id), c.get('requestId')) }, 200),
  );

  router.openapi(createConnectorRoute, async (c) => {
    const input = { agentId: c.req.valid('param').id, body: c.req.valid('json') };
    return c.json(valueOrThrow(await createConnector(c.env, principalOf(c), input, now), c.get('requestId')), 201);
  });

  router.openapi(deleteRoute, async (c) => {
    const { id, cid } = c.req.valid('param');
    valueOrThrow(await deleteConnector(c.env, principalOf(c), { agentId: id, connectorId: cid }, now), c.get('requestId'));
    return c.body(null, 204);
  });

  return router;
}
