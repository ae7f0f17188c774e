/**
 * MCP sessions (`Mcp-Session-Id`, MCP 2025-06-18 "Session Management"). The transport itself
 * runs stateless per request (a Worker isolate holds nothing between requests); the session
 * is a row in D1 keyed by the SHA-256 of a 256-bit random id, so it is:
 * - unguessable (randomToken, 32 bytes) and never stored in plaintext;
 * - bound to the credential that initialized it and to one agent: any other credential or
 *   agent endpoint finds nothing, exactly like an unknown id (404, which the specification
 *   tells the client to answer by initializing again);
 * - expiring (MCP_SESSION_TTL_MS after `initialize`, absolute); DELETE ends it at once.
 */
import { and, eq, gt, lte } from 'drizzle-orm';
import { hashToken, randomToken } from '../auth';
import { mcpSessions, type Database } from '../db';

/** A session lives this long after `initialize`, however busy it is; then the client initializes again. */
export const MCP_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** What a session is bound to. */
export interface SessionBinding {
  workspaceId: string;
  agentId: string;
  credentialId: string;
}

/** Stores a new session; the id is returned once, to go in the `Mcp-Session-Id` header. */
export async function openSession(db: Database, binding: SessionBinding, now: number): Promise<string> {
  const id = `mcps_${randomToken()}`;
  // Expired rows are removed as new ones are written, so the table stays bounded.
  await db.batch([
    db.delete(mcpSessions).where(lte(mcpSessions.expiresAt, now)),
    db.insert(mcpSessions).values({ idHash: await hashToken(id), ...binding, createdAt: now, expiresAt: now + MCP_SESSION_TTL_MS }),
  ]);
  return id;
}

function bound(idHash: string, binding: SessionBinding, now: number) {
  return and(
    eq(mcpSessions.idHash, idHash),
    eq(mcpSessions.workspaceId, binding.workspaceId),
    eq(mcpSessions.agentId, binding.agentId),
    eq(mcpSessions.credentialId, binding.credentialId),
    gt(mcpSessions.expiresAt, now),
  );
}

/** True when `id` is a live session of exactly this credential on exactly this agent. */
export async function sessionIsLive(db: Database, id: string, binding: SessionBinding, now: number): Promise<boolean> {
  const [row] = await db
    .select({ idHash: mcpSessions.idHash })
    .from(mcpSessions)
    .where(bound(await hashToken(id), binding, now))
    .limit(1);
  return row !== undefined;
}

/** Ends the session if it is this credential's on this agent; false when there was none to end. */
export async function closeSession(db: Database, id: string, binding: SessionBinding, now: number): Promise<boolean> {
  const deleted = await db
    .delete(mcpSessions)
    .where(bound(await hashToken(id), binding, now))
    .returning({ idHash: mcpSessions.idHash });
  return deleted.length === 1;
}
