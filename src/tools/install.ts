/**
 * Tool installation as functions the REST routes (install-routes.ts) and the dashboard share.
 * A manifest arrives inline or from an https URL (fetched by fetchManifestFromUrl: every hop
 * checked before any connection). It is validated and compiled for every tool before
 * anything is written; one installed_tools row per tool, with provenance and source.
 * Refusals are thrown as ApiError, like invoke.ts's.
 */
import { and, eq } from 'drizzle-orm';
import { findAgent } from '../agents';
import { recordAudit } from '../audit';
import { actorOfPrincipal, type Clock, type Principal } from '../auth';
import { createDb, installedTools, newId, type Database } from '../db';
import type { Env } from '../env';
import { ApiError } from '../http';
import { compilePolicy, type PolicyError } from '../policy';
import { dohResolver } from './doh-resolve';
import { inputSchemaRefusal } from './input-schema-refusal';
import { operatorAllowFrom } from './operator-allow';
import { installedToolView, findInstalledTool, type InstalledToolRow } from './installed';
import { fetchManifestFromUrl } from './manifest-fetcher';
import { installedToolsOf } from './invoke';
import { ToolApproval, type InstallToolsInput } from './schemas';
import { runsInContainer, uninterceptedDestination } from './executor-container-ports';

function compileErrorField(error: PolicyError): string {
  return error.path === '(root)' ? 'manifest' : `manifest.${error.path}`;
}

export interface InstallDeps {
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
    {
      workspaceId: principal.workspaceId,
      kind: 'tool.install.refused',
      actor: actorOfPrincipal(principal),
      data: { agentId, reason, code },
    },
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

export type InstalledToolViewValue = ReturnType<typeof installedToolView>;

/** The tools installed on an agent of the caller's workspace (404 for a foreign agent). */
export async function listTools(env: Env, principal: Principal, agentId: string): Promise<InstalledToolViewValue[]> {
  const db = createDb(env.DB);
  const agent = await findAgent(db, principal.workspaceId, agentId);
  const rows = await installedToolsOf(db, agent.id);
  return rows.map(installedToolView);
}

/** Installs every tool of a manifest on an agent, or nothing. */
export async function installTools(
  env: Env,
  principal: Principal,
  agentId: string,
  body: InstallToolsInput,
  deps: InstallDeps,
): Promise<InstalledToolViewValue[]> {
  const db = createDb(env.DB);
  const agent = await findAgent(db, principal.workspaceId, agentId);
  const at = deps.now();
  const { manifest, source } = await manifestOf(body, deps, (reason, code) => refuse(env, principal, agent.id, reason, code, at));

  // Validate and compile the whole manifest, then each tool on its own (the runtime sandboxes per tool).
  // A private net:connect destination compiles only when an operator allowance names it exactly.
  const compiled = compilePolicy(manifest, undefined, { privateAllowed: operatorAllowFrom(env.TOOL_OPERATOR_ALLOW) });
  if (!compiled.ok) {
    await refuse(env, principal, agent.id, 'compile-error', compiled.error.code, at);
    const field = compileErrorField(compiled.error);
    throw new ApiError('VALIDATION_ERROR', `Policy compile error ${compiled.error.code} at ${field}.`, { fields: [field] });
  }
  // Only ports 80 and 443 reach a container's outbound handler: refuse what it could not enforce.
  if (runsInContainer(agent, env) && uninterceptedDestination(compiled.policy.net)) {
    await refuse(env, principal, agent.id, 'compile-error', 'PORT_NOT_INTERCEPTED', at);
    throw new ApiError('VALIDATION_ERROR', 'A container tool may connect to ports 80 and 443 only.', { fields: ['manifest.tools'] });
  }
  const parsed = manifest as { name: string; tools: Array<{ name: string; inputSchema?: Record<string, unknown> }> };
  const schemaRefusal = inputSchemaRefusal(parsed.tools);
  if (schemaRefusal) {
    await refuse(env, principal, agent.id, 'schema-unsupported', schemaRefusal.code, at);
    throw new ApiError('VALIDATION_ERROR', schemaRefusal.message, { fields: [schemaRefusal.field] });
  }
  const names = new Set(parsed.tools.map((tool) => tool.name));
  const unknownSetting = Object.keys(body.tools ?? {}).find((name) => !names.has(name));
  if (unknownSetting !== undefined)
    throw new ApiError('VALIDATION_ERROR', 'Settings name a tool the manifest does not have.', { fields: ['tools'] });
  const taken = await existingNames(db, agent.id);
  if (parsed.tools.some((tool) => taken.has(tool.name))) {
    await refuse(env, principal, agent.id, 'conflict', null, at);
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
    env,
    {
      workspaceId: principal.workspaceId,
      kind: 'tool.installed',
      actor: actorOfPrincipal(principal),
      data: { agentId: agent.id, tools: rows.map((r) => r.name), manifest: parsed.name, provenance: compiled.policy.provenance, source },
    },
    at,
  );
  return rows.map(installedToolView);
}

/** Removes one installed tool (404 when the agent or the tool is not there). */
export async function removeTool(env: Env, principal: Principal, agentId: string, name: string, now: Clock): Promise<void> {
  const db = createDb(env.DB);
  const agent = await findAgent(db, principal.workspaceId, agentId);
  const row = await findInstalledTool(db, agent.id, name);
  await db.delete(installedTools).where(and(eq(installedTools.id, row.id), eq(installedTools.agentId, agent.id)));
  await recordAudit(
    env,
    {
      workspaceId: principal.workspaceId,
      kind: 'tool.removed',
      actor: actorOfPrincipal(principal),
      data: { agentId: agent.id, tool: row.name },
    },
    now(),
  );
}
