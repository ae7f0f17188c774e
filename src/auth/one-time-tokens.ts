import { and, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { newId, oneTimeTokens, type Database, type OneTimeTokenPurpose } from '../db';
import { hashToken, randomToken } from './tokens';

/** Invitation and reset tokens live one hour. */
export const ONE_TIME_TOKEN_TTL_MS = 60 * 60 * 1000;

export async function issueOneTimeToken(
  db: Database,
  purpose: OneTimeTokenPurpose,
  user: { id: string; workspaceId: string },
  now: number,
): Promise<{ token: string; expiresAt: number }> {
  const token = randomToken();
  const expiresAt = now + ONE_TIME_TOKEN_TTL_MS;
  await db.insert(oneTimeTokens).values({
    id: newId('ott'),
    tokenHash: await hashToken(token),
    purpose,
    userId: user.id,
    workspaceId: user.workspaceId,
    createdAt: now,
    expiresAt,
  });
  return { token, expiresAt };
}

/** Reads a live token of the given purpose without consuming it (to validate the rest first). */
export async function findLiveToken(db: Database, purpose: OneTimeTokenPurpose, token: string, now: number) {
  const [row] = await db
    .select()
    .from(oneTimeTokens)
    .where(
      and(
        eq(oneTimeTokens.tokenHash, await hashToken(token)),
        eq(oneTimeTokens.purpose, purpose),
        isNull(oneTimeTokens.usedAt),
        gt(oneTimeTokens.expiresAt, now),
      ),
    )
    .limit(1);
  return row;
}

/**
 * Redeeming a token is one D1 batch (a transaction): first the change the token authorises,
 * guarded by `tokenIsLive` so it only applies while the token is unused and unexpired, then
 * the statement that spends the token. Of two concurrent redemptions, the second finds the
 * token spent and changes nothing; the caller checks the spend changed exactly one row.
 */
export function tokenIsLive(tokenId: string, now: number): SQL {
  return sql`exists (select 1 from ${oneTimeTokens} where ${oneTimeTokens.id} = ${tokenId} and ${oneTimeTokens.usedAt} is null and ${oneTimeTokens.expiresAt} > ${now})`;
}

export function consumeTokenStatement(db: Database, tokenId: string, now: number) {
  return db
    .update(oneTimeTokens)
    .set({ usedAt: now })
    .where(and(eq(oneTimeTokens.id, tokenId), isNull(oneTimeTokens.usedAt), gt(oneTimeTokens.expiresAt, now)));
}
