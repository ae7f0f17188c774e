import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRouter, handleError } from '../../src/http';
import { policyRoutes } from '../../src/tools';
import githubManifest from '../fixtures/goldens/github/manifest.json';
import { expectError, send } from './helpers';
import { asKey, createKey, login, OWNER, setupInstance } from './identity-helpers';

interface Operation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

const WRITING_TABLES = [
  'agents',
  'api_keys',
  'audit_events',
  'connectors',
  'installed_tools',
  'tool_invocations',
  'approvals',
  'users',
  'workspaces',
  'vault_secrets',
  'sessions',
  'one_time_tokens',
];

/** Row counts of every table a route could write: an attack that got through would change one. */
async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of WRITING_TABLES)
    counts[table] = (await env.DB.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).first<{ n: number }>())?.n ?? 0;
  return counts;
}

/** Every documented operation, with its path filled in with a made-up id. */
async function operations(): Promise<Array<{ method: string; path: string; operation: Operation }>> {
  const doc = (await (await send('/api/v1/openapi.json')).json()) as Document;
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{\w+\}/g, 'made-up-id'),
      operation,
    })),
  );
}

function sendJson(method: string, path: string, headers: Record<string, string> = {}) {
  const hasBody = method !== 'GET' && method !== 'DELETE';
  return send(path, {
    method,
    headers: hasBody ? { 'Content-Type': 'application/json', ...headers } : headers,
    ...(hasBody ? { body: '{}' } : {}),
  });
}

let keys: { auditOnly: string; agentsReadOnly: string } = { auditOnly: '', agentsReadOnly: '' };

beforeAll(async () => {
  await setupInstance();
  const owner = await login(OWNER.email, OWNER.password);
  keys = { auditOnly: (await createKey(owner, ['audit:read'])).key, agentsReadOnly: (await createKey(owner, ['agents:read'])).key };
});

describe('each route declares its own access, and the OpenAPI security says the same', () => {
  it('POST /api/v1/policy/compile stays protected when policyRoutes is mounted alone, elsewhere', async () => {
    // No app.ts, no request clock: only the router, under another prefix.
    const app = createRouter();
    app.route('/elsewhere', policyRoutes());
    app.onError(handleError);
    const compile = (headers: Record<string, string>) =>
      app.request(
        '/elsewhere/api/v1/policy/compile',
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: JSON.stringify({ manifest: githubManifest, target: 'docker' }),
        },
        env,
      );

    const anonymous = await compile({});
    expect(anonymous.status).toBe(401);
    const body = (await anonymous.json()) as { error: { code: string }; provenance?: unknown };
    expect(body.error.code).toBe('UNAUTHENTICATED');
    expect(body.provenance).toBeUndefined();
    // A key without agents:read is refused too; one with it compiles.
    expect((await compile({ Authorization: `Bearer ${keys.auditOnly}` })).status).toBe(403);
    const allowed = await compile({ Authorization: `Bearer ${keys.agentsReadOnly}` });
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { provenance: string }).provenance).toMatch(/^sha256:/);
  });

  it('every operation documented as protected refuses an anonymous caller with 401 before reading the body, and writes nothing', async () => {
    const ops = await operations();
    const protectedOps = ops.filter(({ operation }) => (operation.security ?? []).length > 0);
    expect(protectedOps.length).toBeGreaterThan(20);
    const before = await rowCounts();
    for (const { method, path } of protectedOps) {
      const error = await expectError(await sendJson(method, path), 401, 'UNAUTHENTICATED');
      expect(error.fields, `${method} ${path}`).toBeUndefined();
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('every operation documented as public (security: []) answers an anonymous caller without asking for credentials', async () => {
    const ops = await operations();
    const publicOps = ops.filter(({ operation }) => operation.security !== undefined && operation.security.length === 0);
    expect(publicOps.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(
      [
        'GET /.well-known/oauth-authorization-server',
        'GET /.well-known/oauth-protected-resource/mcp',
        'GET /api/v1/setup',
        'GET /healthz',
        'GET /oauth/authorize',
        'POST /oauth/authorize',
        'POST /oauth/register',
        'POST /oauth/token',
        'GET /readyz',
        'POST /api/v1/auth/accept-invite',
        'POST /api/v1/auth/login',
        'POST /api/v1/auth/reset',
        'POST /api/v1/setup',
        'POST /hooks/discord/made-up-id',
        'POST /hooks/slack/made-up-id',
        'POST /hooks/telegram/made-up-id',
      ].sort(),
    );
    for (const { method, path } of publicOps) {
      const res = await sendJson(method, path);
      // /readyz answers 503 {"status":"unavailable"} (no error envelope) when tools cannot run.
      // The consent page answers HTML, the OAuth endpoints RFC 6749 errors ({"error":"invalid_request"}).
      const isJson = res.headers.get('Content-Type')?.includes('json') ?? false;
      const body = res.status >= 400 && isJson ? ((await res.json()) as { error?: unknown }) : {};
      const code = typeof body.error === 'object' && body.error !== null ? ((body.error as { code?: string }).code ?? 'none') : 'none';
      expect(code, `${method} ${path}`).not.toBe('UNAUTHENTICATED');
    }
  });

  it('every documented scope is enforced: a key holding none of an operation’s scopes gets 403 and writes nothing', async () => {
    const ops = await operations();
    const scoped = ops.filter(({ operation }) =>
      (operation.security ?? []).some((requirement) => Object.values(requirement).some((scopes) => scopes.length > 0)),
    );
    expect(scoped.length).toBeGreaterThan(15);
    const before = await rowCounts();
    for (const { method, path, operation } of scoped) {
      const scopes = new Set((operation.security ?? []).flatMap((requirement) => Object.values(requirement).flat()));
      // The one-scope key that holds none of them.
      const key = scopes.has('audit:read') ? keys.agentsReadOnly : keys.auditOnly;
      expect(scopes.has(key === keys.auditOnly ? 'audit:read' : 'agents:read'), `${method} ${path}`).toBe(false);
      const res = await sendJson(method, path, { Authorization: `Bearer ${key}` });
      await expectError(res, 403, 'FORBIDDEN');
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('a key with the documented scope gets past the access check (the declaration is not stricter than the code says)', async () => {
    // agents:read is the scope of GET /api/v1/agents: the key passes, the list is empty.
    const res = await asKey(keys.agentsReadOnly, '/api/v1/agents');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ agents: [] });
  });
});
