/**
 * Tool installation: POST/GET /api/v1/agents/:id/tools, DELETE …/tools/:name (rules in install.ts).
 * A manifest arrives inline or from an https URL (fetched by fetchManifestFromUrl: every hop
 * checked before any connection). It is validated and compiled for every tool before
 * anything is written; one installed_tools row per tool, with provenance and source.
 */
import { principalOf, secured, signedIn } from '../auth';
import { createRouter, errorResponses } from '../http';
import { installTools, listTools, removeTool, type InstallDeps } from './install';
import { AgentParams, InstalledToolList, InstallTools, ToolParams } from './schemas';

const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

const listRoute = secured(
  {
    method: 'get',
    path: '/api/v1/agents/{id}/tools',
    operationId: 'listInstalledTools',
    summary: 'Tools installed on an agent (scope agents:read)',
    request: { params: AgentParams },
    responses: { 200: { description: 'Installed tools', ...json(InstalledToolList) }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:read'),
);
const installRoute = secured(
  {
    method: 'post',
    path: '/api/v1/agents/{id}/tools',
    operationId: 'installTools',
    summary: 'Install the tools of a manifest, inline or from an https URL (scope agents:write)',
    request: { params: AgentParams, body: { required: true, ...json(InstallTools) } },
    responses: { 201: { description: 'Installed', ...json(InstalledToolList) }, ...errorResponses(400, 401, 403, 404, 409) },
  },
  signedIn('agents:write'),
);
const removeRoute = secured(
  {
    method: 'delete',
    path: '/api/v1/agents/{id}/tools/{name}',
    operationId: 'removeInstalledTool',
    summary: 'Remove an installed tool (scope agents:write)',
    request: { params: ToolParams },
    responses: { 204: { description: 'Removed' }, ...errorResponses(401, 403, 404) },
  },
  signedIn('agents:write'),
);

export function installRoutes(deps: InstallDeps) {
  const router = createRouter();

  router.openapi(listRoute, async (c) => c.json({ tools: await listTools(c.env, principalOf(c), c.req.valid('param').id) }, 200));

  router.openapi(installRoute, async (c) =>
    c.json({ tools: await installTools(c.env, principalOf(c), c.req.valid('param').id, c.req.valid('json'), deps) }, 201),
  );

  router.openapi(removeRoute, async (c) => {
    const { id, name } = c.req.valid('param');
    await removeTool(c.env, principalOf(c), id, name, deps.now);
    return c.body(null, 204);
  });

  return router;
}
