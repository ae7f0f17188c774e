/** Approval helpers shared by the invocation and approval routes. */
import { and, eq, inArray, lte } from 'drizzle-orm';
import type { Principal } from '../auth';
import { approvals, toolInvocations, type Database } from '../db';
import { canonicalJson, sha256Hex } from '../lib';

/** How long an approval stays decidable; after that it is expired, which means denied. */
export const APPROVAL_TTL_MS = 10 * 60_000;

/** Who asked for a call: the user and the credential (API key or session) they used. */
/** The credential a principal acts with: its API key id (`key_…`) or its session id (`ses_…`). */
export function credentialIdOf(principal: Principal): string | null {
  return (principal.kind === 'api_key' ? principal.apiKeyId : principal.sessionId) ?? null;
}

export function requesterOf(principal: Principal): { requestedByUserId: string; requestedByCredentialId: string | null } {
  return { requestedByUserId: principal.userId, requestedByCredentialId: credentialIdOf(principal) };
}

/** SHA-256 of the RFC 8785 canonical JSON: what an approval is bound to. */
export function argumentsHash(args: Record<string, unknown>): Promise<string> {
  return sha256Hex(canonicalJson(args));
}

/** Approvals past their expiry become `expired`, and their calls with them (expired = denied). */
export async function expireStaleApprovals(db: Database, workspaceId: string, now: number): Promise<void> {
  const stale = await db
    .update(approvals)
    .set({ status: 'expired', decidedAt: now })
    .where(and(eq(approvals.workspaceId, workspaceId), eq(approvals.status, 'pending'), lte(approvals.expiresAt, now)))
    .returning({ invocationId: approvals.invocationId });
  if (stale.length === 0) return;
  await db
    .update(toolInvocations)
    .set({ status: 'expired', finishedAt: now })
    .where(
      and(
        inArray(
          toolInvocations.id,
          stale.map((row) => row.invocationId),
        ),
        eq(toolInvocations.status, 'pending_approval'),
      ),
    );
}
