/**
 * Live findings a correctly built gateway cannot be made to show through its API (weak
 * headers, a CORS echo, a public URL with setup open, a broken audit chain, a key idle for
 * months): a loopback stand-in answers like a misconfigured or tampered deployment, and doctor
 * runs in-process with its fetch pointed at it, so the URL can be a public https origin.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../cli/doctor/index.ts';

const NOW = Date.now();
const DAY_MS = 86_400_000;
const seen: { method: string; path: string; origin?: string; authorization?: string }[] = [];
let server: Server;
let origin: string;

/** Answers per path; `/api/v1/agents/{id}/tools` lists a tool without `capabilities` when the agent id says so. */
function answer(path: string, query: URLSearchParams): { status: number; body: unknown; headers?: Record<string, string> } {
  switch (path) {
    case '/api/v1/users':
      return {
        status: 200,
        body: {
          users: [
            { id: 'usr_away', email: 'a@example.com', role: 'owner' },
            { id: 'usr_here', email: 'h@example.com', role: 'owner' },
            { id: 'usr_never', email: 'n@example.com', role: 'owner' },
            { id: 'usr_admin', email: 'm@example.com', role: 'admin' },
          ],
        },
      };
    case '/api/v1/audit': {
      // Two pages, oldest first: the newest sign-in per owner and the newest rotation decide.
      const event = (kind: string, daysAgo: number, data: Record<string, unknown> = {}) => ({
        kind,
        data,
        createdAt: NOW - daysAgo * DAY_MS,
      });
      if (query.get('cursor') === null)
        return {
          status: 200,
          body: {
            events: [
              event('auth.setup.completed', 400),
              event('auth.login.succeeded', 300, { userId: 'usr_here' }),
              event('vault.rotated', 250),
              event('auth.login.succeeded', 120, { userId: 'usr_away' }),
            ],
            nextCursor: 'page-2',
          },
        };
      return {
        status: 200,
        body: { events: [event('vault.rotated', 200), event('auth.login.succeeded', 5, { userId: 'usr_here' })], nextCursor: null },
      };
    }
    case '/healthz':
      return { status: 200, body: { status: 'ok', dangerous: ['DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS', '\u001b]0;pwned\u0007'] } };
    case '/api/v1/setup':
      return { status: 200, body: { needed: true } };
    case '/api/v1/agents':
      return {
        status: 200,
        body: {
          agents: [
            { id: 'agt_1', name: 'a', isolation: 'container' },
            { id: 'agt_old', name: 'b', isolation: 'sandbox' },
          ],
        },
      };
    case '/api/v1/agents/agt_1/tools':
      return {
        status: 200,
        body: {
          tools: [
            { name: 'sh_on_miss', approval: 'on-miss', capabilities: ['exec:spawn:bash', 'net:connect:*:443'] },
            { name: 'busy', approval: 'never', capabilities: ['exec:spawn:busybox'] },
          ],
        },
      };
    case '/api/v1/agents/agt_old/tools':
      return { status: 200, body: { tools: [{ name: 'legacy', approval: 'never' }] } };
    case '/api/v1/credentials':
      return { status: 403, body: { error: { code: 'FORBIDDEN', message: 'x', requestId: 'r' } } };
    case '/api/v1/api-keys':
      return {
        status: 200,
        body: {
          apiKeys: [
            {
              id: 'key_idle',
              name: 'idle',
              expiresAt: NOW + 30 * DAY_MS,
              revokedAt: null,
              lastUsedAt: NOW - 100 * DAY_MS,
              createdAt: NOW - 200 * DAY_MS,
            },
            { id: 'key_revoked', name: 'gone', expiresAt: null, revokedAt: NOW - DAY_MS, lastUsedAt: null, createdAt: NOW - 300 * DAY_MS },
            { id: 'key_expired', name: 'old', expiresAt: NOW - DAY_MS, revokedAt: null, lastUsedAt: null, createdAt: NOW - 300 * DAY_MS },
            {
              id: 'key_fresh',
              name: 'fresh',
              expiresAt: NOW + DAY_MS,
              revokedAt: null,
              lastUsedAt: NOW - DAY_MS,
              createdAt: NOW - 10 * DAY_MS,
            },
          ],
        },
      };
    case '/api/v1/audit/verify':
      return { status: 200, body: { ok: false, count: 12, firstBroken: { kind: 'edited', seq: 4, id: 'evt_4' } } };
    default:
      return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'x', requestId: 'r' } } };
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const requested = new URL(req.url ?? '/', 'http://x');
    const path = requested.pathname;
    seen.push({ method: req.method ?? '', path, origin: req.headers.origin, authorization: req.headers.authorization });
    // Weak on purpose: HSTS and nosniff missing, a CSP that allows everything, and CORS that echoes any origin.
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Content-Security-Policy': 'default-src *',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Permissions-Policy': 'camera=()',
    };
    if (req.headers.origin) headers['Access-Control-Allow-Origin'] = req.headers.origin;
    if (req.method === 'OPTIONS') return void res.writeHead(204, headers).end();
    const { status, body } = answer(path, requested.searchParams);
    res.writeHead(status, headers).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** doctor's requests for https://gateway.example.com go to the stand-in. */
const routed: typeof fetch = (input, init) => {
  const url = new URL(String(input));
  return fetch(new URL(url.pathname + url.search, origin), init);
};

async function run(env: Record<string, string>, colour = false, json = !colour) {
  const out: string[] = [];
  const code = await doctor(['--url', 'https://gateway.example.com', ...(json ? ['--json'] : [])], {
    fetch: routed,
    env,
    now: () => NOW,
    stdout: (t) => out.push(t),
    stderr: () => undefined,
    colour,
  });
  return { code, text: out.join('') };
}

describe('portcullis doctor --url against a misconfigured stand-in', () => {
  it('reports each live and workspace finding with its severity, and what could not run', async () => {
    seen.length = 0;
    const { code, text } = await run({ PORTCULLIS_API_KEY: 'pcl_stub_key' });
    const report = JSON.parse(text) as {
      findings: { id: string; severity: string; seen: string }[];
      notRun: { check: string; reason: string }[];
    };
    // The working directory's wrangler.toml is checked too (the default --config); only live findings matter here.
    const pairs = [...new Set(report.findings.filter((f) => !f.id.startsWith('config.')).map((f) => `${f.id} ${f.severity}`))].sort();
    expect(pairs).toEqual([
      'api.audit.broken critical',
      'api.key.unused low',
      'api.owner.stale_signin medium',
      'api.tool.shell_without_approval high',
      'api.vault.key_old medium',
      'live.cors.foreign_origin high',
      'live.csp.weak medium',
      'live.headers.missing medium',
      'live.health.dangerous critical',
      'live.setup.open_public critical',
    ]);
    expect(code).toBe(1);
    const missing = report.findings.filter((f) => f.id === 'live.headers.missing').map((f) => f.seen);
    expect(missing).toEqual(
      expect.arrayContaining(['/healthz: strict-transport-security is missing', '/healthz: x-content-type-options is missing']),
    );
    expect(report.findings.filter((f) => f.id === 'api.key.unused').map((f) => f.seen)).toEqual([
      'API key "key_idle" ("idle") unused for 100 days',
    ]);
    expect(report.findings.filter((f) => f.id === 'api.owner.stale_signin').map((f) => f.seen)).toEqual([
      'owner "usr_away" last signed in 120 days ago',
      'owner "usr_never" has no sign-in in the audit log',
    ]);
    expect(report.findings.filter((f) => f.id === 'api.vault.key_old').map((f) => f.seen)).toEqual([
      'the last vault rotation was 200 days ago',
    ]);
    expect(seen.filter((r) => r.path === '/api/v1/audit').length).toBe(2);
    expect(report.notRun.map((n) => n.check).sort()).toEqual(['api.credentials', 'api.tools']);
    // Nothing from the gateway reaches the terminal raw, in JSON nor in text.
    const plain = await run({ PORTCULLIS_API_KEY: 'pcl_stub_key' }, false, false);
    expect(plain.text).toContain('/healthz reports "\\u001b]0;pwned\\u0007"');
    // eslint-disable-next-line no-control-regex -- the point
    for (const output of [text, plain.text]) expect(output.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
    // Only reads (both runs), and the key only in the Authorization header of API calls.
    expect(seen.every((r) => r.method === 'GET' || r.method === 'OPTIONS')).toBe(true);
    expect(
      seen
        .filter((r) => r.authorization !== undefined)
        .every((r) => r.path.startsWith('/api/v1/') && r.authorization === 'Bearer pcl_stub_key'),
    ).toBe(true);
    expect(seen.filter((r) => ['/healthz', '/api/v1/setup', '/'].includes(r.path)).every((r) => r.authorization === undefined)).toBe(true);
  });

  it('without PORTCULLIS_API_KEY the API checks are skipped, not "could not run"; text is coloured on a terminal', async () => {
    const { code, text } = await run({}, true);
    expect(code).toBe(1);
    expect(text).toContain('\u001b[');
    expect(text).toContain('api: PORTCULLIS_API_KEY is not set');
    expect(text).not.toContain('Could not run');
  });
});
