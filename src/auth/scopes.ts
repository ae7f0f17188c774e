import type { Role } from '../db';

export const SCOPES = [
  'admin',
  'agents:read',
  'agents:write',
  'credentials:write',
  'tools:invoke',
  'approvals:decide',
  'audit:read',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Scopes one API key may never hold together: [the scope that acts, the scope that would
 * let the same key oversee or escape that]. The agent's own key calls tools with
 * `tools:invoke`; an approval that the caller's own key can grant protects nothing, so it
 * can hold neither `approvals:decide` nor `admin` (which invites users, i.e. mints a
 * person who could then approve). Refused at key creation (api-key-routes.ts); at use,
 * the second scope of a pair is dropped (effectiveKeyScopes), and approval-routes.ts
 * checks `tools:invoke` once more.
 */
export const EXCLUSIVE_KEY_SCOPES: readonly (readonly [Scope, Scope])[] = [
  ['tools:invoke', 'approvals:decide'],
  ['tools:invoke', 'admin'],
];

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

/** Effective scopes of a key: what it was given, narrowed to what its creator has now, never an exclusive pair. */
export function effectiveKeyScopes(keyScopes: readonly string[], creatorRole: Role): Set<Scope> {
  const allowed = new Set<string>(ROLE_SCOPES[creatorRole]);
  const effective = new Set(SCOPES.filter((scope) => keyScopes.includes(scope) && allowed.has(scope)));
  // A row holding an exclusive pair (written before the rule, or by hand) keeps only the acting scope.
  for (const [acting, overseeing] of EXCLUSIVE_KEY_SCOPES) if (effective.has(acting)) effective.delete(overseeing);
  return effective;
}
