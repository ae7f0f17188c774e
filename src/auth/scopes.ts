import type { Role } from '../db';

export const SCOPES = ['admin', 'agents:read', 'agents:write', 'credentials:write', 'tools:invoke', 'approvals:decide', 'audit:read'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Scopes one API key may never hold together. `approvals:decide` exists so a person can hand
 * a decision-making tool (a chat bot, a pager) a key; the agent's own key calls tools with
 * `tools:invoke`, and an approval that the caller's own key can grant protects nothing.
 * Refused at key creation (api-key-routes.ts) and checked again at use (approval-routes.ts).
 */
export const EXCLUSIVE_KEY_SCOPES: readonly (readonly [Scope, Scope])[] = [['tools:invoke', 'approvals:decide']];

/** The first pair of mutually exclusive scopes `scopes` holds both of, if any. */
export function exclusiveScopeConflict(scopes: Iterable<string>): readonly [Scope, Scope] | undefined {
  const held = new Set(scopes);
  return EXCLUSIVE_KEY_SCOPES.find(([a, b]) => held.has(a) && held.has(b));
}

/** What each role may do; an API key gets at most its creator's role scopes. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  owner: SCOPES,
  admin: SCOPES,
  operator: ['agents:read', 'agents:write', 'credentials:write', 'tools:invoke', 'approvals:decide'],
  viewer: ['agents:read'],
};

/** Higher ranks may grant lower or equal roles, never higher ones. */
export const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2, owner: 3 };

/** Who is calling: resolved once per request by authenticate(). */
export interface Principal {
  kind: 'session' | 'api_key';
  userId: string;
  workspaceId: string;
  email: string;
  role: Role;
  isInstanceOwner: boolean;
  scopes: ReadonlySet<Scope>;
  sessionId?: string;
  apiKeyId?: string;
}

/**
 * The audit actor of a request: the key when a key acted (a leaked key's actions must be
 * traceable to that key), else the signed-in user. Same form as the tools' actors.
 */
export function actorOfPrincipal(principal: Principal): string {
  return principal.kind === 'api_key' && principal.apiKeyId ? `api_key:${principal.apiKeyId}` : `user:${principal.userId}`;
}

/** Effective scopes of a key: what it was given, narrowed to what its creator has now. */
export function effectiveKeyScopes(keyScopes: readonly string[], creatorRole: Role): Set<Scope> {
  const allowed = new Set<string>(ROLE_SCOPES[creatorRole]);
  return new Set(SCOPES.filter((scope) => keyScopes.includes(scope) && allowed.has(scope)));
}
