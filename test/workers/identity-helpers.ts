import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { SCOPES, type Principal } from '../../src/auth';
import { postJson, send } from './helpers';

export const SETUP_TOKEN = 'test-setup-token-0123456789abcdef0123456789abcdef';
export const OWNER = { email: 'owner@example.com', password: 'correct horse battery staple 42' };

export interface Session {
  cookie: string;
  csrfToken: string;
  userId: string;
  workspaceId: string;
}

export async function setupInstance(workspace = 'Acme'): Promise<{ workspaceId: string; userId: string }> {
  const res = await postJson('/api/v1/setup', { token: SETUP_TOKEN, workspace, ...OWNER });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { workspace: { id: string }; user: { id: string } };
  return { workspaceId: body.workspace.id, userId: body.user.id };
}

/** Signs in and returns the cookie pair to send back and the CSRF token. */
export async function login(email: string, password: string, ip?: string): Promise<Session> {
  const res = await postJson('/api/v1/auth/login', { email, password }, ip ? { 'CF-Connecting-IP': ip } : {});
  expect(res.status).toBe(200);
  const setCookie = res.headers.get('Set-Cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const body = (await res.json()) as { csrfToken: string; user: { id: string; workspaceId: string } };
  return { cookie, csrfToken: body.csrfToken, userId: body.user.id, workspaceId: body.user.workspaceId };
}

/** A request as a signed-in browser would send it: cookie, CSRF token, same origin. */
export function asSession(
  session: Session,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { Cookie: session.cookie, 'X-CSRF-Token': session.csrfToken, ...init.headers };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  return send(path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

export function asKey(key: string, path: string, init: { method?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  return send(path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

export async function createKey(
  session: Session,
  scopes: string[],
  extra: Record<string, unknown> = {},
): Promise<{ id: string; key: string; expiresAt: number | null }> {
  const res = await asSession(session, '/api/v1/api-keys', { method: 'POST', body: { name: 'test key', scopes, ...extra } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; key: string; expiresAt: number | null };
}

/** Invites a user and redeems the invitation; returns their id. */
export async function inviteUser(admin: Session, email: string, role: string, password: string): Promise<string> {
  const res = await asSession(admin, '/api/v1/users', { method: 'POST', body: { email, role } });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { user: { id: string }; inviteToken: string };
  const accept = await postJson('/api/v1/auth/accept-invite', { token: body.inviteToken, password });
  expect(accept.status).toBe(204);
  return body.user.id;
}

/**
 * Creates another workspace (POST /api/v1/workspaces, as `admin`: the instance owner), has its
 * owner redeem the invitation with `password`, and signs them in.
 */
export async function createWorkspaceWithOwner(admin: Session, name: string, ownerEmail: string, password: string): Promise<Session> {
  const res = await asSession(admin, '/api/v1/workspaces', { method: 'POST', body: { name, ownerEmail } });
  expect(res.status).toBe(201);
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password })).status).toBe(204);
  return login(ownerEmail, password);
}

export async function countRows(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>();
  return row?.n ?? 0;
}

/** Every text value in every table of the D1 database, for "never stored" assertions. */
export async function dumpDatabase(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    parts.push(JSON.stringify(rows.results));
  }
  return parts.join('\n');
}

/** The deployed throttle (RateLimiter-backed), for tests that build an app with their own clock. */
export { loginThrottle as testThrottle } from '../../src/index';

/**
 * A signed-in owner as the domain functions receive one, built by hand: tests that call domain
 * functions directly (no fetch, no middleware) act through it.
 */
export function domainActor(workspaceId: string, userId: string, extra: Partial<Principal> = {}): Principal {
  return {
    kind: 'session',
    userId,
    workspaceId,
    email: 'o@example.com',
    role: 'owner',
    isInstanceOwner: false,
    scopes: new Set(SCOPES),
    ...extra,
  };
}
