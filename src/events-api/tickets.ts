import { actorOfPrincipal, hashToken, randomToken, type Principal } from '../auth';
import type { Env } from '../env';
import { TICKET_TTL_MS } from '../events';
import { done, refused, type Outcome } from '../http';

/**
 * A ticket is `<workspaceId>.<256 random bits, base64url>`. The workspace part only says
 * which workspace's EventHub to ask: the ticket is valid only if that hub holds its hash,
 * and a hub holds only the tickets of its own workspace, so editing the prefix points at a
 * hub that does not know the ticket. Only the SHA-256 of the whole ticket is stored.
 */
const TICKET_SHAPE = /^(ws_[0-9a-f]{32})\.[A-Za-z0-9_-]{43}$/;

export interface IssuedTicket {
  ticket: string;
  expiresAt: number;
}

/** Issues a single-use ticket that opens one connection with the caller's workspace and scopes. */
export async function issueEventTicket(env: Pick<Env, 'EVENT_HUB'>, principal: Principal, now: number): Promise<Outcome<IssuedTicket>> {
  const ticket = `${principal.workspaceId}.${randomToken()}`;
  const stored = await env.EVENT_HUB.getByName(principal.workspaceId).storeTicket(
    await hashToken(ticket),
    { actor: actorOfPrincipal(principal), scopes: [...principal.scopes] },
    now,
  );
  if (!stored) return refused({ kind: 'conflict', message: 'Too many unused tickets; open a connection or let them expire first.' });
  return done({ ticket, expiresAt: now + TICKET_TTL_MS });
}

/** What a spent ticket grants: the workspace it was issued in, its issuer and the issuer's scopes then. */
export interface TicketGrant {
  workspaceId: string;
  actor: string;
  scopes: string[];
}

/** Spends `ticket` (at most once, ever); null for a malformed, unknown, spent or expired one. */
export async function spendEventTicket(env: Pick<Env, 'EVENT_HUB'>, ticket: string, now: number): Promise<TicketGrant | null> {
  const workspaceId = TICKET_SHAPE.exec(ticket)?.[1];
  if (!workspaceId) return null;
  const spent = await env.EVENT_HUB.getByName(workspaceId).spendTicket(await hashToken(ticket), now);
  return spent ? { workspaceId, ...spent } : null;
}
