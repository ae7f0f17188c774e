import type { Role } from '../db';

export const SCOPES = ['admin', 'agents:read', 'agents:write', 'credentials:write', 'tools:invoke', 'audit:read'] as const;
export type Scope = (typeof SCOPES)[number];

/** What each role may do; an API key gets at most its creator's role scopes. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  owner: SCOPES,
  admin: SCOPES,
  operator: ['agents:read', 'agents:write', 'credentials:write', 'tools:invoke'],
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

/** Effective scopes of a key: what it was given, narrowed to what its creator has now. */
export function effectiveKeyScopes(keyScopes: readonly string[], creatorRole: Role): Set<Scope> {
  const allowed = new Set<string>(ROLE_SCOPES[creatorRole]);
  return new Set(SCOPES.filter((scope) => keyScopes.includes(scope) && allowed.has(scope)));
}
