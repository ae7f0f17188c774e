/**
 * OAuth 2.1 on the MCP endpoint (docs/mcp.md "OAuth"), through the real Worker and the
 * official SDK's OAuth client functions and MCP Client: discovery, dynamic registration,
 * authorization with PKCE on the consent page, code exchange, tools/list, refresh, revoke;
 * then the attack table. Every refusal checks that no grant was written.
 */
import { env, exports } from 'cloudflare:workers';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  exchangeAuthorization,
  refreshAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type { AuthorizationServerMetadata, OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ORIGIN, postJson } from './helpers';
import { asSession, inviteUser, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { connectClient, INITIALIZE, mcpHeaders, mcpUrl } from './mcp-support';
import { TEST_MANIFEST } from './tools-support';

const REDIRECT = 'http://localhost:33418/callback';
const RESOURCE = new URL(`${ORIGIN}/mcp`);

let nextIp = 0;
/** The Worker's own fetch handler (index.ts), as any client on the internet reaches it. */
const workerFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
  const request = new Request(input, init);
  if (!request.headers.has('CF-Connecting-IP')) {
    nextIp = (nextIp + 1) % 65536;
    request.headers.set('CF-Connecting-IP', `198.20.${nextIp >> 8}.${nextIp & 255}`);
  }
  return exports.default.fetch(request);
}) as typeof fetch;

let owner: Session;
let viewer: Session;
let ownerB: Session;
let agentA: string;
let agentB: string;
let agentOtherWorkspace: string;
let metadata: AuthorizationServerMetadata;

async function newAgent(session: Session, name: string): Promise<string> {
  const res = await asSession(session, '/api/v1/agents', { method: 'POST', body: { name } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function grantRows(): Promise<number> {
  return ((await env.DB.prepare('SELECT count(*) AS n FROM oauth_grants').first<{ n: number }>())?.n ?? 0) as number;
}

async function auditKinds(workspaceId: string): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT kind FROM audit_events WHERE workspace_id = ? AND kind LIKE 'oauth.%' ORDER BY seq")
    .bind(workspaceId)
    .all<{ kind: string }>();
  return rows.results.map((row) => row.kind);
}

function unescapeHtml(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}

function field(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no ${name} in the page`);
  return unescapeHtml(match[1]);
}

async function register(name = 'Test MCP client', redirectUris = [REDIRECT]): Promise<OAuthClientInformationFull> {
  return registerClient(ORIGIN, {
    metadata,
    clientMetadata: {
      client_name: name,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    fetchFn: workerFetch,
  });
}

interface ConsentPage {
  res: Response;
  html: string;
  cookie: string;
  codeVerifier: string;
}

/** Starts an authorization with PKCE (S256, the SDK's) and opens the consent page as `session`'s browser. */
async function openConsent(client: OAuthClientInformationFull, session: Session | undefined, redirectUrl = REDIRECT): Promise<ConsentPage> {
  const { authorizationUrl, codeVerifier } = await startAuthorization(ORIGIN, {
    metadata,
    clientInformation: client,
    redirectUrl,
    scope: 'tools:invoke',
    state: 'state-123',
    resource: RESOURCE,
  });
  const res = await workerFetch(authorizationUrl, { headers: session ? { Cookie: session.cookie } : {}, redirect: 'manual' });
  const consentCookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
  return { res, html: await res.text(), cookie: [session?.cookie, consentCookie].filter(Boolean).join('; '), codeVerifier };
}

async function postConsent(page: ConsentPage, form: Record<string, string>): Promise<Response> {
  return workerFetch(`${ORIGIN}/oauth/authorize`, {
    method: 'POST',
    headers: { Cookie: page.cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

/** The whole consent step: returns the authorization code the client receives. */
async function authorize(client: OAuthClientInformationFull, session: Session, agentId: string) {
  const page = await openConsent(client, session);
  expect(page.res.status).toBe(200);
  const res = await postConsent(page, {
    handle: field(page.html, 'handle'),
    csrf: field(page.html, 'csrf'),
    agent: agentId,
    decision: 'approve',
  });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('Location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  expect(location.searchParams.get('state')).toBe('state-123');
  return { code: location.searchParams.get('code') ?? '', codeVerifier: page.codeVerifier };
}

async function tokensFor(session: Session, agentId: string, client?: OAuthClientInformationFull) {
  const registered = client ?? (await register());
  const { code, codeVerifier } = await authorize(registered, session, agentId);
  const tokens = await exchangeAuthorization(ORIGIN, {
    metadata,
    clientInformation: registered,
    authorizationCode: code,
    codeVerifier,
    redirectUri: REDIRECT,
    resource: RESOURCE,
    fetchFn: workerFetch,
  });
  return { client: registered, tokens };
}

async function rawInitialize(agentId: string, token: string): Promise<Response> {
  return workerFetch(mcpUrl(agentId), { method: 'POST', headers: mcpHeaders(token), body: JSON.stringify(INITIALIZE) });
}

beforeAll(async () => {
  await setupInstance('OAuth A');
  owner = await login(OWNER.email, OWNER.password);
  await inviteUser(owner, 'viewer@example.com', 'viewer', 'viewer passphrase long enough');
  viewer = await login('viewer@example.com', 'viewer passphrase long enough');
  const res = await asSession(owner, '/api/v1/workspaces', {
    method: 'POST',
    body: { name: 'OAuth B', ownerEmail: 'oauth-b@example.com' },
  });
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'owner b passphrase long' })).status).toBe(204);
  ownerB = await login('oauth-b@example.com', 'owner b passphrase long');
  agentA = await newAgent(owner, 'agent-a');
  agentB = await newAgent(owner, 'agent-b');
  agentOtherWorkspace = await newAgent(ownerB, 'agent-of-b');
  metadata = (await discoverAuthorizationServerMetadata(ORIGIN, { fetchFn: workerFetch }))!;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('discovery', () => {
  it('a 401 from /mcp names the protected-resource metadata, which names this gateway as its authorization server', async () => {
    const res = await workerFetch(mcpUrl(agentA), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe(
      `Bearer realm="portcullis", resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`,
    );
    // As MCP clients do: follow the challenge's resource_metadata (RFC 9728 §5.1).
    const prm = await discoverOAuthProtectedResourceMetadata(
      mcpUrl(agentA),
      { resourceMetadataUrl: `${ORIGIN}/.well-known/oauth-protected-resource/mcp` },
      workerFetch,
    );
    expect(prm.resource).toBe(`${ORIGIN}/mcp`);
    expect(prm.authorization_servers).toEqual([ORIGIN]);
    expect(prm.scopes_supported).toEqual(['tools:invoke']);
  });

  it('the authorization server metadata offers code + PKCE S256 only, registration, and the scope', () => {
    expect(metadata.issuer).toBe(ORIGIN);
    expect(metadata.authorization_endpoint).toBe(`${ORIGIN}/oauth/authorize`);
    expect(metadata.token_endpoint).toBe(`${ORIGIN}/oauth/token`);
    expect(metadata.registration_endpoint).toBe(`${ORIGIN}/oauth/register`);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.scopes_supported).toEqual(['tools:invoke']);
  });
});

describe('the full flow', () => {
  it('register, consent with PKCE, exchange, tools/list through the MCP client, refresh, list grants, revoke → refused at once', async () => {
    const { client, tokens } = await tokensFor(owner, agentA);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toBeTruthy();

    const { client: mcp } = await connectClient(agentA, tokens.access_token, workerFetch);
    expect((await mcp.listTools()).tools).toEqual([]);
    await mcp.close();

    const grants = await asSession(owner, '/api/v1/oauth/grants');
    expect(grants.status).toBe(200);
    const listed = ((await grants.json()) as { grants: { id: string; clientName: string; agentId: string; userId: string }[] }).grants;
    const grant = listed.find((g) => g.clientName === 'Test MCP client' && g.agentId === agentA);
    expect(grant).toMatchObject({ userId: owner.userId, agentId: agentA });

    // Refresh rotates: the new access token works, and the grant is the same.
    const refreshed = await refreshAuthorization(ORIGIN, {
      metadata,
      clientInformation: client,
      refreshToken: tokens.refresh_token!,
      resource: RESOURCE,
      fetchFn: workerFetch,
    });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await rawInitialize(agentA, refreshed.access_token)).status).toBe(200);

    const revoked = await asSession(owner, `/api/v1/oauth/grants/${grant!.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(204);
    for (const token of [tokens.access_token, refreshed.access_token]) {
      const res = await rawInitialize(agentA, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
    }
    await expect(
      refreshAuthorization(ORIGIN, {
        metadata,
        clientInformation: client,
        refreshToken: refreshed.refresh_token!,
        resource: RESOURCE,
        fetchFn: workerFetch,
      }),
    ).rejects.toThrow();
    expect((await asSession(owner, `/api/v1/oauth/grants/${grant!.id}`, { method: 'DELETE' })).status).toBe(404);

    expect(await auditKinds(owner.workspaceId)).toEqual(
      expect.arrayContaining(['oauth.client.registered', 'oauth.grant.created', 'oauth.grant.revoked']),
    );
  });
});

describe('tools through an OAuth token', () => {
  it('tools/list shows the granted agent’s installed tools, and tools/call goes through the invocation pipeline (argument validation)', async () => {
    const withTools = await newAgent(owner, 'agent-with-tools');
    const installed = await asSession(owner, `/api/v1/agents/${withTools}/tools`, {
      method: 'POST',
      body: { manifest: TEST_MANIFEST, tools: {} },
    });
    expect(installed.status).toBe(201);
    const { tokens } = await tokensFor(owner, withTools);
    const { client: mcp } = await connectClient(withTools, tokens.access_token, workerFetch);
    const { tools } = await mcp.listTools();
    expect(tools.map((tool) => tool.name)).toContain('cat');
    const result = await mcp.callTool({ name: 'cat', arguments: { path: 42 } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain('VALIDATION_ERROR');
    await mcp.close();
  });
});

describe('attacks', () => {
  it('a wrong PKCE verifier gets no token; the right one then fails too (the code is spent), and a code is never reusable', async () => {
    const client = await register();
    const { code, codeVerifier } = await authorize(client, owner, agentA);
    const exchange = (verifier: string, authorizationCode = code) =>
      exchangeAuthorization(ORIGIN, {
        metadata,
        clientInformation: client,
        authorizationCode,
        codeVerifier: verifier,
        redirectUri: REDIRECT,
        resource: RESOURCE,
        fetchFn: workerFetch,
      });
    await expect(exchange(`${codeVerifier.slice(0, -2)}xx`)).rejects.toThrow();

    const second = await authorize(client, owner, agentA);
    const tokens = await exchange(second.codeVerifier, second.code);
    expect(tokens.access_token).toBeTruthy();
    await expect(exchange(second.codeVerifier, second.code)).rejects.toThrow();
  });

  it.each([
    ['no code_challenge', (url: URL) => url.searchParams.delete('code_challenge')],
    ['code_challenge_method=plain', (url: URL) => url.searchParams.set('code_challenge_method', 'plain')],
  ])('an authorization request with %s never reaches the consent form', async (_name, tamper) => {
    const client = await register();
    const { authorizationUrl } = await startAuthorization(ORIGIN, {
      metadata,
      clientInformation: client,
      redirectUrl: REDIRECT,
      scope: 'tools:invoke',
      state: 's',
      resource: RESOURCE,
    });
    tamper(authorizationUrl);
    const res = await workerFetch(authorizationUrl, { headers: { Cookie: owner.cookie }, redirect: 'manual' });
    expect(res.status).not.toBe(200);
    expect(await res.text()).not.toContain('name="handle"');
    const location = res.headers.get('Location');
    if (location !== null) expect(new URL(location).searchParams.get('code')).toBeNull();
  });

  it('a redirect_uri that is not exactly the registered one is refused on the page, never redirected, and at the token endpoint', async () => {
    const client = await register();
    const before = await grantRows();
    for (const other of ['http://localhost:33418/callback/evil', 'https://attacker.example/callback', 'http://localhost:33418/callbac']) {
      const page = await openConsent(client, owner, other);
      expect(page.res.status, other).toBe(400);
      expect(page.res.headers.get('Location')).toBeNull();
      expect(page.html).not.toContain('name="handle"');
    }
    const { code, codeVerifier } = await authorize(client, owner, agentA);
    await expect(
      exchangeAuthorization(ORIGIN, {
        metadata,
        clientInformation: client,
        authorizationCode: code,
        codeVerifier,
        redirectUri: 'http://localhost:33418/other',
        resource: RESOURCE,
        fetchFn: workerFetch,
      }),
    ).rejects.toThrow();
    expect(await grantRows()).toBe(before + 1);
  });

  it.each([
    ['missing CSRF token', (csrf: string) => ({ csrf: undefined as string | undefined, unused: csrf })],
    ['forged CSRF token', (csrf: string) => ({ csrf: `${csrf.slice(0, -4)}0000` })],
    ['another session’s CSRF token', () => ({ csrf: 'f'.repeat(64) })],
  ])('%s on the consent POST → 403, nothing granted', async (_name, forge) => {
    const client = await register();
    const page = await openConsent(client, owner);
    const before = await grantRows();
    const { csrf } = forge(field(page.html, 'csrf'));
    const form: Record<string, string> = { handle: field(page.html, 'handle'), agent: agentA, decision: 'approve' };
    if (csrf !== undefined) form.csrf = csrf;
    const res = await postConsent(page, form);
    expect(res.status).toBe(403);
    expect(res.headers.get('Location')).toBeNull();
    expect(await grantRows()).toBe(before);
  });

  it('a cross-site POST (foreign Origin) with a valid form token → 403, nothing granted', async () => {
    const client = await register();
    const page = await openConsent(client, owner);
    const before = await grantRows();
    const res = await workerFetch(`${ORIGIN}/oauth/authorize`, {
      method: 'POST',
      headers: { Cookie: page.cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://attacker.example' },
      body: new URLSearchParams({
        handle: field(page.html, 'handle'),
        csrf: field(page.html, 'csrf'),
        agent: agentA,
        decision: 'approve',
      }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(403);
    expect(await grantRows()).toBe(before);
  });

  it('the consent page is strict: no script, CSP with form-action self + the redirect origin, no framing; values escaped', async () => {
    const client = await register('<img src=x onerror=alert(1)>"evil');
    const page = await openConsent(client, owner);
    expect(page.res.status).toBe(200);
    expect(page.res.headers.get('Content-Security-Policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' http://localhost:33418",
    );
    expect(page.res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(page.html).not.toContain('<script');
    expect(page.html).not.toContain('<img');
    expect(page.html).toContain('&#60;img src&#61;x onerror&#61;alert(1)&#62;&#34;evil');
  });

  it('not signed in → a sign-in page, no consent handle; a viewer may not grant tools:invoke', async () => {
    const client = await register();
    const anonymous = await openConsent(client, undefined);
    expect(anonymous.res.status).toBe(401);
    expect(anonymous.html).toContain('Sign in first');
    expect(anonymous.html).not.toContain('name="handle"');
    const asViewer = await openConsent(client, viewer);
    expect(asViewer.res.status).toBe(403);
    expect(asViewer.html).not.toContain('name="handle"');
  });

  it('an agent of another workspace cannot be picked on the consent page; nothing granted', async () => {
    const client = await register();
    const page = await openConsent(client, owner);
    const before = await grantRows();
    const res = await postConsent(page, {
      handle: field(page.html, 'handle'),
      csrf: field(page.html, 'csrf'),
      agent: agentOtherWorkspace,
      decision: 'approve',
    });
    expect(res.status).toBe(400);
    expect(await grantRows()).toBe(before);
  });

  it('a token for agent A on agent B, and on another workspace’s agent, answers 404 as if it did not exist; no session written', async () => {
    const { tokens } = await tokensFor(owner, agentA);
    const sessions = async () => (await env.DB.prepare('SELECT count(*) AS n FROM mcp_sessions').first<{ n: number }>())?.n;
    const before = await sessions();
    for (const agent of [agentB, agentOtherWorkspace, 'agt_doesnotexist']) {
      const res = await rawInitialize(agent, tokens.access_token);
      expect(res.status, agent).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    expect(await sessions()).toBe(before);
    expect((await rawInitialize(agentA, tokens.access_token)).status).toBe(200);
  });

  it('another workspace’s token on this workspace’s agent → 404', async () => {
    const { tokens } = await tokensFor(ownerB, agentOtherWorkspace);
    expect((await rawInitialize(agentA, tokens.access_token)).status).toBe(404);
    expect((await rawInitialize(agentOtherWorkspace, tokens.access_token)).status).toBe(200);
  });

  it('grants are listed per workspace: B sees none of A’s, and cannot revoke them (404)', async () => {
    const { tokens } = await tokensFor(owner, agentB);
    const listedA = ((await (await asSession(owner, '/api/v1/oauth/grants')).json()) as { grants: { id: string; agentId: string }[] })
      .grants;
    const listedB = ((await (await asSession(ownerB, '/api/v1/oauth/grants')).json()) as { grants: { id: string; agentId: string }[] })
      .grants;
    const grantOfA = listedA.find((g) => g.agentId === agentB)!;
    expect(listedB.map((g) => g.id)).not.toContain(grantOfA.id);
    expect((await asSession(ownerB, `/api/v1/oauth/grants/${grantOfA.id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await asSession(viewer, `/api/v1/oauth/grants/${grantOfA.id}`, { method: 'DELETE' })).status).toBe(403);
    expect((await rawInitialize(agentB, tokens.access_token)).status).toBe(200);
  });

  it('an expired access token (past its hour) → 401 invalid_token', async () => {
    const { tokens } = await tokensFor(owner, agentA);
    expect((await rawInitialize(agentA, tokens.access_token)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3601 * 1000);
    const res = await rawInitialize(agentA, tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="invalid_token"');
  });

  it('Deny on the consent page sends access_denied back to the client and grants nothing', async () => {
    const client = await register();
    const page = await openConsent(client, owner);
    const before = await grantRows();
    const res = await postConsent(page, {
      handle: field(page.html, 'handle'),
      csrf: field(page.html, 'csrf'),
      agent: agentA,
      decision: 'deny',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('Location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('code')).toBeNull();
    expect(await grantRows()).toBe(before);
  });

  it('an OAuth access token opens nothing but /mcp: the REST API answers 401', async () => {
    const { tokens } = await tokensFor(owner, agentA);
    for (const path of ['/api/v1/agents', `/api/v1/agents/${agentA}`, '/api/v1/oauth/grants']) {
      const res = await workerFetch(`${ORIGIN}${path}`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
      expect(res.status, path).toBe(401);
    }
  });

  it('a made-up token shaped like the library’s → 401', async () => {
    const res = await rawInitialize(agentA, `${owner.userId}:abcdefghijklmnop:${'x'.repeat(32)}`);
    expect(res.status).toBe(401);
  });
});
