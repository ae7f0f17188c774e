/**
 * The gateway's record of OAuth grants (D1 `oauth_grants`, docs/storage.md): listing a
 * workspace's grants, and the live check every MCP request with an OAuth token makes, so a
 * revocation is refused on the very next request wherever it lands (a KV delete takes up to
 * 60 s to reach every location; D1 is read from the primary).
 */
import { and, desc, eq, isNull, ne } from 'drizzle-orm';
import { recordAudit, type AuditBindings } from '../../audit';
import type { Principal } from '../../auth';
import { agents, createDb, oauthGrants, users, type Database } from '../../db';
import { done, refused, type Outcome } from '../../http';
import { oauthApi } from './provider';

export interface GrantView {
  id: string;
  clientId: string;
  clientName: string;
  agentId: string;
  agentName: string | null;
  userId: string;
  userEmail: string | null;
  scope: string[];
  createdAt: number;
}

export interface NewGrant {
  id: string;
  workspaceId: string;
  agentId: string;
  userId: string;
  clientId: string;
  clientName: string;
  scope: string[];
  /** The client's registered redirect URIs (for the audit event; not stored in the row). */
  redirectUris: string[];
}

/**
 * Stores a grant the consent page just completed. The library revokes the same user's earlier
 * grants to the same client (a re-authorization replaces them), so their rows are marked too.
 * The first grant of a client in a workspace also records `oauth.client.registered` there:
 * registration itself is anonymous and belongs to no workspace.
 */
export async function recordGrant(env: AuditBindings & { DB: D1Database }, grant: NewGrant, actor: string, now: number): Promise<void> {
  const db = createDb(env.DB);
  const [known] = await db
    .select({ id: oauthGrants.id })
    .from(oauthGrants)
    .where(and(eq(oauthGrants.workspaceId, grant.workspaceId), eq(oauthGrants.clientId, grant.clientId)))
    .limit(1);
  await db.batch([
    db
      .update(oauthGrants)
      .set({ revokedAt: now })
      .where(
        and(
          eq(oauthGrants.userId, grant.userId),
          eq(oauthGrants.clientId, grant.clientId),
          ne(oauthGrants.id, grant.id),
          isNull(oauthGrants.revokedAt),
        ),
      ),
    db.insert(oauthGrants).values({
      id: grant.id,
      workspaceId: grant.workspaceId,
      agentId: grant.agentId,
      userId: grant.userId,
      clientId: grant.clientId,
      clientName: grant.clientName,
      scope: grant.scope.join(' '),
      createdAt: now,
      revokedAt: null,
    }),
  ]);
  if (!known)
    await recordAudit(
      env,
      {
        workspaceId: grant.workspaceId,
        kind: 'oauth.client.registered',
        actor,
        data: { clientId: grant.clientId, clientName: grant.clientName, redirectUris: grant.redirectUris },
      },
      now,
    );
  await recordAudit(
    env,
    {
      workspaceId: grant.workspaceId,
      kind: 'oauth.grant.created',
      actor,
      data: {
        grantId: grant.id,
        clientId: grant.clientId,
        clientName: grant.clientName,
        agentId: grant.agentId,
        userId: grant.userId,
        scope: grant.scope,
      },
    },
    now,
  );
}

/** The live grant `grantId` of `userId` in `workspaceId`, or undefined (unknown, revoked, another workspace's). */
export async function liveGrant(db: Database, grantId: string, userId: string, workspaceId: string) {
  const [row] = await db
    .select()
    .from(oauthGrants)
    .where(
      and(
        eq(oauthGrants.id, grantId),
        eq(oauthGrants.userId, userId),
        eq(oauthGrants.workspaceId, workspaceId),
        isNull(oauthGrants.revokedAt),
      ),
    )
    .limit(1);
  return row;
}

export async function listGrants(env: { DB: D1Database }, actor: Principal): Promise<Outcome<GrantView[]>> {
  const db = createDb(env.DB);
  const rows = await db
    .select({ grant: oauthGrants, agentName: agents.name, userEmail: users.email })
    .from(oauthGrants)
    .leftJoin(agents, eq(agents.id, oauthGrants.agentId))
    .leftJoin(users, eq(users.id, oauthGrants.userId))
    .where(and(eq(oauthGrants.workspaceId, actor.workspaceId), isNull(oauthGrants.revokedAt)))
    .orderBy(desc(oauthGrants.createdAt));
  return done(
    rows.map(({ grant, agentName, userEmail }) => ({
      id: grant.id,
      clientId: grant.clientId,
      clientName: grant.clientName,
      agentId: grant.agentId,
      agentName: agentName ?? null,
      userId: grant.userId,
      userEmail: userEmail ?? null,
      scope: grant.scope.split(' ').filter(Boolean),
      createdAt: grant.createdAt,
    })),
  );
}

/**
 * Revokes a grant of the caller's workspace: the D1 row first (from then on every MCP request
 * with its tokens is refused, `liveGrant`), then the library's records (tokens, refresh
 * tokens; KV). Another workspace's grant, an unknown or an already revoked one → not-found.
 */
export async function revokeGrant(
  env: AuditBindings & { DB: D1Database } & Parameters<typeof oauthApi>[1],
  actor: Principal,
  actorName: string,
  grantId: string,
  origin: string,
  now: number,
): Promise<Outcome<void>> {
  const db = createDb(env.DB);
  const [row] = await db
    .update(oauthGrants)
    .set({ revokedAt: now })
    .where(and(eq(oauthGrants.id, grantId), eq(oauthGrants.workspaceId, actor.workspaceId), isNull(oauthGrants.revokedAt)))
    .returning();
  if (!row) return refused({ kind: 'not-found' });
  await oauthApi(origin, env).revokeGrant(row.id, row.userId);
  await recordAudit(
    env,
    {
      workspaceId: row.workspaceId,
      kind: 'oauth.grant.revoked',
      actor: actorName,
      data: { grantId: row.id, clientId: row.clientId, agentId: row.agentId, userId: row.userId },
    },
    now,
  );
  return done(undefined);
}
