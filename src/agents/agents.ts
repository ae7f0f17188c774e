import type { z } from '@hono/zod-openapi';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { recordAudit, type AuditBindings } from '../audit';
import type { Clock, Principal } from '../auth';
import { agents, connectors, createDb, newId, vaultSecrets, type Database } from '../db';
import type { Env } from '../env';
import { resolveGuards, type ResolvedGuards } from '../guards';
import { ApiError, done, refused, type DomainProblem, type Outcome } from '../http';
import { checkModelBaseUrl, modelPrivateHosts, modelShapeProblem, type ModelSettings } from '../models';
import { getCredential } from '../vault';
import { forgetConnector, type RecordCacheBindings } from '../webhooks';
import { isolationAllowed } from './isolation';
import type { CreateAgent, UpdateAgent } from './schemas';

/**
 * Agents as domain functions: each is what one route does after authentication and
 * validation, takes (env, actor, input, clock) and answers an Outcome, so it is testable
 * without HTTP; the route maps a refusal with problemToApiError. A foreign id answers
 * not-found, exactly like a missing one.
 */
export type AgentBindings = Pick<
  Env,
  'DB' | 'TOOL_EXECUTOR' | 'DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS' | 'MODEL_PRIVATE_HOSTS' | 'VAULT_KEYS'
> &
  AuditBindings &
  RecordCacheBindings;

type AgentRow = typeof agents.$inferSelect;
export type AgentViewValue = ReturnType<typeof agentView>;

/**
 * The `settings` column holds the agent settings and, under GUARDS_KEY, the guard settings as
 * the operator sent them (docs/storage.md); the view shows them apart, the guards resolved.
 */
const GUARDS_KEY = 'guards';

function splitSettings(stored: Record<string, unknown>): { settings: Record<string, unknown>; guards: unknown } {
  const { [GUARDS_KEY]: guards, ...settings } = stored;
  return { settings, guards };
}

function joinSettings(settings: Record<string, unknown>, guards: unknown): Record<string, unknown> {
  return guards === undefined ? settings : { ...settings, [GUARDS_KEY]: guards };
}

/** The guards in force for an agent row (strict defaults for anything unset or unreadable). For the agent runtime. */
export function guardsOfAgent(row: Pick<AgentRow, 'settings'>): ResolvedGuards {
  return resolveGuards(splitSettings(row.settings).guards);
}

function guardChange(agentId: string, guards: ResolvedGuards) {
  return {
    agentId,
    injection: guards.injection,
    secrets: guards.secrets,
    exfiltration: guards.exfiltration,
    output: guards.output,
    classifier: guards.classifier ? `${guards.classifier.provider}/${guards.classifier.model}` : null,
  };
}

export function agentView(row: AgentRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    settings: splitSettings(row.settings).settings,
    isolation: row.isolation,
    model: row.model ?? null,
    guards: guardsOfAgent(row),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The agent with this id in this workspace, if any (for domain functions: they answer not-found themselves). */
export async function agentInWorkspace(db: Database, workspaceId: string, id: string): Promise<AgentRow | undefined> {
  const [row] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), eq(agents.workspaceId, workspaceId)))
    .limit(1);
  return row;
}

/** The agent with this id in the caller's workspace, or 404 (a foreign id looks missing). For other capabilities' routes. */
export async function findAgent(db: Database, workspaceId: string, id: string): Promise<AgentRow> {
  const row = await agentInWorkspace(db, workspaceId, id);
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

const ISOLATION_REFUSED = { kind: 'policy-denied', message: 'Isolation "unrestricted" is disabled on this deployment.' } as const;

/**
 * Model settings (the agent's model, and the guards' classifier, which has the same shape)
 * are checked when saved (and again before every call, src/models openModelClient):
 * 1. the provider's shape (modelShapeProblem: openai-compatible needs a baseUrl; workers-ai
 *    takes no baseUrl, no credential, and an `@cf/`/`@hf/` model id) → invalid;
 * 2. the baseUrl fails checkModelBaseUrl (https, no private address unless in MODEL_PRIVATE_HOSTS) → url-not-allowed;
 * 3. the named credential does not exist in the workspace vault → invalid (the key is never read here);
 * 4. otherwise accepted.
 */
async function modelProblem(env: AgentBindings, workspaceId: string, model: ModelSettings, field = 'model'): Promise<DomainProblem | null> {
  const shape = modelShapeProblem(model);
  if (shape) return { kind: 'invalid', message: shape.message, fields: [`${field}.${shape.field}`] };
  if (model.baseUrl !== undefined && !checkModelBaseUrl(model.baseUrl, modelPrivateHosts(env.MODEL_PRIVATE_HOSTS)).ok)
    return {
      kind: 'url-not-allowed',
      message: 'The model baseUrl must be https and public, or a host:port listed in MODEL_PRIVATE_HOSTS.',
      fields: [`${field}.baseUrl`],
    };
  if (model.credential !== undefined) {
    const found = await getCredential(env, workspaceId, model.credential);
    if (!found.ok)
      return { kind: 'invalid', message: 'The model credential does not exist in the vault.', fields: [`${field}.credential`] };
  }
  return null;
}

export async function listAgents(env: AgentBindings, actor: Principal): Promise<Outcome<AgentViewValue[]>> {
  const rows = await createDb(env.DB).select().from(agents).where(eq(agents.workspaceId, actor.workspaceId)).orderBy(asc(agents.createdAt));
  return done(rows.map(agentView));
}

export async function getAgent(env: AgentBindings, actor: Principal, id: string): Promise<Outcome<AgentViewValue>> {
  const row = await agentInWorkspace(createDb(env.DB), actor.workspaceId, id);
  return row ? done(agentView(row)) : refused({ kind: 'not-found' });
}

export async function createAgent(
  env: AgentBindings,
  actor: Principal,
  input: z.infer<typeof CreateAgent>,
  now: Clock,
): Promise<Outcome<AgentViewValue>> {
  // Default: a container where the deployment runs tools in containers (production), the
  // local bubblewrap sandbox where it runs them locally (wrangler dev, self-hosted Linux).
  const isolation = input.isolation ?? (env.TOOL_EXECUTOR === 'local' ? 'sandbox' : 'container');
  if (!isolationAllowed(isolation, env)) return refused(ISOLATION_REFUSED);
  const modelRefusal =
    (input.model ? await modelProblem(env, actor.workspaceId, input.model) : null) ??
    (input.guards?.classifier ? await modelProblem(env, actor.workspaceId, input.guards.classifier, 'guards.classifier') : null);
  if (modelRefusal) return refused(modelRefusal);
  const at = now();
  const row: AgentRow = {
    id: newId('agt'),
    workspaceId: actor.workspaceId,
    name: input.name,
    description: input.description ?? '',
    settings: joinSettings(input.settings ?? {}, input.guards),
    isolation,
    model: input.model ?? null,
    createdAt: at,
    updatedAt: at,
  };
  await createDb(env.DB).insert(agents).values(row);
  await recordAudit(
    env,
    {
      workspaceId: row.workspaceId,
      kind: 'agent.created',
      actor: `user:${actor.userId}`,
      data: { agentId: row.id, name: row.name, isolation },
    },
    at,
  );
  if (input.guards)
    await recordAudit(
      env,
      {
        workspaceId: row.workspaceId,
        kind: 'agent.guard.changed',
        actor: `user:${actor.userId}`,
        data: guardChange(row.id, guardsOfAgent(row)),
      },
      at,
    );
  return done(agentView(row));
}

export async function updateAgent(
  env: AgentBindings,
  actor: Principal,
  input: { id: string; changes: z.infer<typeof UpdateAgent> },
  now: Clock,
): Promise<Outcome<AgentViewValue & { note?: string }>> {
  const db = createDb(env.DB);
  const current = await agentInWorkspace(db, actor.workspaceId, input.id);
  if (!current) return refused({ kind: 'not-found' });
  const body = input.changes;
  if (body.isolation && !isolationAllowed(body.isolation, env)) return refused(ISOLATION_REFUSED);
  const modelRefusal =
    (body.model ? await modelProblem(env, actor.workspaceId, body.model) : null) ??
    (body.guards?.classifier ? await modelProblem(env, actor.workspaceId, body.guards.classifier, 'guards.classifier') : null);
  if (modelRefusal) return refused(modelRefusal);
  const at = now();
  const stored = splitSettings(current.settings);
  const { guards: guardChanges, ...fields } = body;
  const next: AgentRow = {
    ...current,
    ...fields,
    description: body.description ?? current.description,
    // `settings` and `guards` each replace their part as a whole; the other part is kept.
    settings: joinSettings(body.settings ?? stored.settings, guardChanges ?? stored.guards),
    model: body.model === undefined ? current.model : body.model,
    updatedAt: at,
  };
  await db
    .update(agents)
    .set({
      name: next.name,
      description: next.description,
      settings: next.settings,
      isolation: next.isolation,
      model: next.model,
      updatedAt: at,
    })
    .where(eq(agents.id, current.id));
  // The webhook path's cached connector records say whether the agent has a model: refresh them.
  if (Boolean(next.model) !== Boolean(current.model)) await forgetConnectors(env, await connectorsOf(db, current.id));
  const isolationChanged = next.isolation !== current.isolation;
  await recordAudit(
    env,
    {
      workspaceId: current.workspaceId,
      kind: 'agent.updated',
      actor: `user:${actor.userId}`,
      data: { agentId: current.id, fields: Object.keys(body), isolationFrom: current.isolation, isolationTo: next.isolation },
    },
    at,
  );
  if (guardChanges)
    await recordAudit(
      env,
      {
        workspaceId: current.workspaceId,
        kind: 'agent.guard.changed',
        actor: `user:${actor.userId}`,
        data: guardChange(current.id, guardsOfAgent(next)),
      },
      at,
    );
  const note = isolationChanged
    ? 'Isolation changes apply to new sandboxes only; running sandboxes keep their isolation until they stop.'
    : undefined;
  return done({ ...agentView(next), ...(note ? { note } : {}) });
}

/**
 * What else an agent's deletion must remove, outside D1: the conversation objects' storage
 * (src/conversations forgetAgentConversations, wired in app.ts; a hook because that folder
 * imports this one). Runs before the rows go, while their ids are still known; a failure
 * leaves the agent in place, so the DELETE can be repeated.
 */
export type AgentDeletionHook = (env: Pick<Env, 'DB' | 'CONVERSATION'>, agent: { workspaceId: string; id: string }) => Promise<void>;

function connectorsOf(db: Database, agentId: string) {
  return db.select({ id: connectors.id, platform: connectors.platform }).from(connectors).where(eq(connectors.agentId, agentId));
}

/** After a D1 change the webhook path's record caches must see: each connector reads D1 again. */
async function forgetConnectors(env: RecordCacheBindings, list: Awaited<ReturnType<typeof connectorsOf>>): Promise<void> {
  await Promise.all(list.map((connector) => forgetConnector(env, connector.platform, connector.id)));
}

export async function deleteAgent(
  env: AgentBindings & Pick<Env, 'CONVERSATION'>,
  actor: Principal,
  id: string,
  now: Clock,
  beforeDelete?: AgentDeletionHook,
): Promise<Outcome<{ deleted: true }>> {
  const db = createDb(env.DB);
  const current = await agentInWorkspace(db, actor.workspaceId, id);
  if (!current) return refused({ kind: 'not-found' });
  if (beforeDelete) await beforeDelete(env, current);
  const at = now();
  const agentConnectors = await connectorsOf(db, current.id);
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
  // After the delete committed: the webhook path's cache of each connector reads D1 again (404).
  await forgetConnectors(env, agentConnectors);
  await recordAudit(
    env,
    { workspaceId: current.workspaceId, kind: 'agent.deleted', actor: `user:${actor.userId}`, data: { agentId: current.id } },
    at,
  );
  return done({ deleted: true });
}
