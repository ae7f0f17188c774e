/**
 * Tool installation: POST/GET /api/v1/agents/:id/tools, DELETE …/tools/:name.
 * A manifest arrives inline or from an https URL (fetched by fetchManifestFromUrl: every hop
 * checked before any connection). It is validated and compiled for every tool before
 * anything is written; one installed_tools row per tool, with provenance and source.
 */
import { and, eq } from 'drizzle-orm';
import { findAgent } from '../agents';
import { recordAudit } from '../audit';
import { principalOf, secured, signedIn, type Clock, type Principal } from '../auth';
import { createDb, installedTools, newId, type Database } from '../db';
import type { Env } from '../env';
import { ApiError, createRouter, errorResponses } from '../http';
import { compilePolicy, type PolicyError } from '../policy';
import { dohResolver } from './doh-resolve';
import { inputSchemaRefusal } from './input-schema-refusal';
import { operatorAllowFrom } from './operator-allow';
import { installedToolView, findInstalledTool, type InstalledToolRow } from './installed';
import { fetchManifestFromUrl } from './manifest-fetcher';
import { installedToolsOf } from './invoke';
import { AgentParams, InstalledToolList, InstallTools, type InstallToolsInput, ToolApproval, ToolParams } from './schemas';
import { runsInContainer, uninterceptedDestination } from './executor-container-ports';

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

function actorOf(principal: Principal): string {
  return principal.kind === 'api_key' ? `api_key:${principal.apiKeyId}` : `user:${principal.userId}`;
}

function compileErrorField(error: PolicyError): string {
  return error.path === '(root)' ? 'manifest' : `manifest.${error.path}`;
}

interface InstallDeps {
  now: Clock;
  fetch: typeof fetch;
}

async function refuse(
  env: Env,
  principal: Principal,
  agentId: string,
  reason: 'url-not-allowed' | 'fetch-failed' | 'compile-error' | 'schema-unsupported' | 'conflict',
  code: string | null,
  now: number,
): Promise<void> {
  await recordAudit(
    env,
    { workspaceId: principal.workspaceId, kind: 'tool.install.refused', actor: actorOf(principal), data: { agentId, reason, code } },
    now,
  );
}

/** The manifest of a request: inline, or fetched with every hop checked (refusals are 400 URL_NOT_ALLOWED). */
async function manifestOf(
  body: InstallToolsInput,
  deps: InstallDeps,
  onRefusal: (reason: 'url-not-allowed' | 'fetch-failed', code: string) => Promise<void>,
): Promise<{ manifest: unknown; source: string }> {
  if ('manifest' in body) return { manifest: body.manifest, source: 'inline' };
  const fetched = await fetchManifestFromUrl(body.url, {
    resolve: dohResolver((url, init) => deps.fetch(url, init)),
    fetch: (url, init) => deps.fetch(url, init),
  });
  if (fetched.ok) return { manifest: fetched.manifest, source: fetched.url };
  if (fetched.kind === 'url-not-allowed') {
    await onRefusal('url-not-allowed', fetched.reason);
    throw new ApiError('URL_NOT_ALLOWED');
  }
  await onRefusal('fetch-failed', fetched.reason);
  throw new ApiError('VALIDATION_ERROR', 'The manifest could not be fetched.', { fields: ['url'] });
}

async function existingNames(db: Database, agentId: string): Promise<Set<string>> {
  const rows = await db.select({ name: installedTools.name }).from(installedTools).where(eq(installedTools.agentId, agentId));
  return new Set(rows.map((row) => row.name));
}

export function installRoutes(deps: InstallDeps) {
  const router = createRouter();

  router.openapi(listRoute, async (c) => {
    const { workspaceId } = principalOf(c);
    const db = createDb(c.env.DB);
    const agent = await findAgent(db, workspaceId, c.req.valid('param').id);
    const rows = await installedToolsOf(db, agent.id);
    return c.json({ tools: rows.map(installedToolView) }, 200);
  });

  router.openapi(installRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const agent = await findAgent(db, principal.workspaceId, c.req.valid('param').id);
    const body = c.req.valid('json');
    const at = deps.now();
    const { manifest, source } = await manifestOf(body, deps, (reason, code) => refuse(c.env, principal, agent.id, reason, code, at));

    // Validate and compile the whole manifest, then each tool on its own (the runtime sandboxes per tool).
    // A private net:connect destination compiles only when an operator allowance names it exactly.
    const compiled = compilePolicy(manifest, undefined, { privateAllowed: operatorAllowFrom(c.env.TOOL_OPERATOR_ALLOW) });
    if (!compiled.ok) {
      await refuse(c.env, principal, agent.id, 'compile-error', compiled.error.code, at);
      const field = compileErrorField(compiled.error);
      throw new ApiError('VALIDATION_ERROR', `Policy compile error ${compiled.error.code} at ${field}.`, { fields: [field] });
    }
    // Only ports 80 and 443 reach a container's outbound handler: refuse what it could not enforce.
    if (runsInContainer(agent, c.env) && uninterceptedDestination(compiled.policy.net)) {
      await refuse(c.env, principal, agent.id, 'compile-error', 'PORT_NOT_INTERCEPTED', at);
      throw new ApiError('VALIDATION_ERROR', 'A container tool may connect to ports 80 and 443 only.', { fields: ['manifest.tools'] });
    }
    const parsed = manifest as { name: string; tools: Array<{ name: string; inputSchema?: Record<string, unknown> }> };
    const schemaRefusal = inputSchemaRefusal(parsed.tools);
    if (schemaRefusal) {
      await refuse(c.env, principal, agent.id, 'schema-unsupported', schemaRefusal.code, at);
      throw new ApiError('VALIDATION_ERROR', schemaRefusal.message, { fields: [schemaRefusal.field] });
    }
    const names = new Set(parsed.tools.map((tool) => tool.name));
    const unknownSetting = Object.keys(body.tools ?? {}).find((name) => !names.has(name));
    if (unknownSetting !== undefined)
      throw new ApiError('VALIDATION_ERROR', 'Settings name a tool the manifest does not have.', { fields: ['tools'] });
    const taken = await existingNames(db, agent.id);
    if (parsed.tools.some((tool) => taken.has(tool.name))) {
      await refuse(c.env, principal, agent.id, 'conflict', null, at);
      throw new ApiError('CONFLICT', 'A tool with that name is already installed on this agent; remove it first.');
    }

    const rows: InstalledToolRow[] = parsed.tools.map((tool) => {
      const settings = ToolApproval.parse(body.tools?.[tool.name] ?? {});
      return {
        id: newId('tool'),
        workspaceId: principal.workspaceId,
        agentId: agent.id,
        name: tool.name,
        manifest: manifest as Record<string, unknown>,
        provenance: compiled.policy.provenance,
        source,
        approval: settings.approval,
        approvalAllowlist: settings.approvalAllowlist,
        createdAt: at,
      };
    });
    const [first, ...rest] = rows.map((row) => db.insert(installedTools).values(row));
    if (first) await db.batch([first, ...rest]);
    await recordAudit(
      c.env,
      {
        workspaceId: principal.workspaceId,
        kind: 'tool.installed',
        actor: actorOf(principal),
        data: { agentId: agent.id, tools: rows.map((r) => r.name), manifest: parsed.name, provenance: compiled.policy.provenance, source },
      },
      at,
    );
    return c.json({ tools: rows.map(installedToolView) }, 201);
  });

  router.openapi(removeRoute, async (c) => {
    const principal = principalOf(c);
    const db = createDb(c.env.DB);
    const { id, name } = c.req.valid('param');
    const agent = await findAgent(db, principal.workspaceId, id);
    const row = await findInstalledTool(db, agent.id, name);
    await db.delete(installedTools).where(and(eq(installedTools.id, row.id), eq(installedTools.agentId, agent.id)));
    await recordAudit(
      c.env,
      { workspaceId: principal.workspaceId, kind: 'tool.removed', actor: actorOf(principal), data: { agentId: agent.id, tool: row.name } },
      deps.now(),
    );
    return c.body(null, 204);
  });

  return router;
}
