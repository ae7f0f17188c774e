/**
 * GET/POST /oauth/authorize: the consent page, where a signed-in member grants an OAuth
 * client `tools:invoke` on ONE agent of their workspace (docs/mcp.md "OAuth"). Server-rendered,
 * every value escaped, no script; its CSP allows only a form posting to this page and the
 * redirect to the client's registered redirect URI (`form-action` governs the redirect after
 * the POST too). Checks, first refusal wins (the same numbers in docs/mcp.md):
 * 1. the library validates the request (client, exact registered redirect_uri, PKCE S256,
 *    response_type, resource): an error it can send back goes to the client's redirect URI,
 *    any other is shown here and never redirected;
 * 2. no live session cookie → a page saying to sign in (401);
 * 3. the member's role ranks below operator (viewer) → 403 page: granting tools:invoke needs
 *    a role that holds it (ROLE_RANK, ROLE_SCOPES);
 * 4. POST: the form token must match, in constant time, sessionBoundToken(session token,
 *    "portcullis oauth consent\n" + consent handle) (src/auth/form-token.ts, the construction
 *    the dashboard's forms use): bound to this session and this consent transaction; a
 *    missing or forged one → 403, nothing is consumed or granted. An Origin header, when sent, must be
 *    the gateway's own (as src/auth checks for cookie requests);
 * 5. POST: the library's handle must be live and bound to this browser (its __Host- cookie),
 *    single use, 10 min; "deny" → access_denied to the client;
 * 6. POST: the agent must be one of the member's workspace → 400 page; then the grant is
 *    stored (library: KV; gateway: D1 row + audit) and the browser goes to the client.
 */
import type { Context } from 'hono';
import { AuthorizationError, type AuthRequest, type ConsentDescription } from '@cloudflare/workers-oauth-provider';
import { agentInWorkspace, listAgents } from '../../agents';
import { ROLE_RANK, sessionBoundToken, sessionMember, timingSafeEqualText, type Principal } from '../../auth';
import { createDb } from '../../db';
import type { AppEnv } from '../../env';
import { createRouter, isAllowedOrigin, parseAllowedOrigins } from '../../http';
import { recordGrant } from './grants';
import { OAUTH_AUTHORIZE_PATH, OAUTH_SCOPE, oauthApi, type McpGrantProps } from './provider';

/** Members ranking below this may not grant tools:invoke (viewer). */
const MIN_GRANT_RANK = ROLE_RANK.operator;

function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** `form-action` must also allow where the POST redirects to: exactly the registered redirect URI's origin. */
function pageCsp(redirectUri?: string): string {
  let target = '';
  if (redirectUri) {
    try {
      const origin = new URL(redirectUri).origin;
      if (origin !== 'null') target = ` ${origin}`;
    } catch {
      // The library validated it; an unparsable one adds nothing.
    }
  }
  return `default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'${target}`;
}

function page(c: Context<AppEnv>, status: 200 | 400 | 401 | 403, title: string, body: string, headers?: Headers, redirectUri?: string) {
  c.set('contentSecurityPolicy', pageCsp(redirectUri));
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Portcullis</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
  const response = c.html(html, status);
  headers?.forEach((value, name) => response.headers.append(name, value));
  return response;
}

/** The consent form's CSRF token: bound to the session and to this consent transaction. */
function formToken(sessionToken: string, handle: string): string {
  return sessionBoundToken(sessionToken, `portcullis oauth consent\n${handle}`);
}

function signInPage(c: Context<AppEnv>) {
  return page(
    c,
    401,
    'Sign in first',
    '<p>You are not signed in to this Portcullis gateway. Sign in (POST /api/v1/auth/login, or the dashboard) in this browser, then open the link from your MCP client again.</p>',
  );
}

function mayGrant(principal: Principal): boolean {
  return ROLE_RANK[principal.role] >= MIN_GRANT_RANK && principal.scopes.has(OAUTH_SCOPE);
}

function consentBody(details: ConsentDescription, agents: { id: string; name: string }[], handle: string, token: string): string {
  const options = agents
    .map(
      (agent, i) =>
        `<label><input type="radio" name="agent" value="${escapeHtml(agent.id)}"${i === 0 ? ' checked' : ''} required> ${escapeHtml(agent.name)} <code>${escapeHtml(agent.id)}</code></label><br>`,
    )
    .join('\n');
  return `<p><strong>${escapeHtml(details.clientName)}</strong> (registered itself; its name is not verified) asks to call the tools of one agent of your workspace on your behalf.</p>
<p>Access will be sent to <strong>${escapeHtml(details.redirectHost)}</strong> (<code>${escapeHtml(details.redirectUri)}</code>).</p>
${details.redirectIsLoopback ? '<p><strong>This sends access to an app on your computer.</strong> Continue only if you just started signing in from it.</p>' : ''}
<form method="post" action="${OAUTH_AUTHORIZE_PATH}">
<input type="hidden" name="handle" value="${escapeHtml(handle)}">
<input type="hidden" name="csrf" value="${escapeHtml(token)}">
<fieldset><legend>Agent (one)</legend>
${options}
</fieldset>
<p>Scope: <code>${OAUTH_SCOPE}</code> on that agent only: list and call its installed tools through the gateway (policies, approvals and the sandbox still apply). Access tokens last one hour; you can revoke the grant at any time (DELETE /api/v1/oauth/grants/{id}).</p>
<p><button name="decision" value="approve">Allow</button> <button name="decision" value="deny">Deny</button></p>
</form>`;
}

function authorizationFailure(c: Context<AppEnv>, error: unknown) {
  if (error instanceof AuthorizationError) {
    if (error.redirectTo) return c.redirect(error.redirectTo, 302);
    return page(
      c,
      400,
      'This authorization request is not valid',
      `<p>${escapeHtml(error.description ?? error.code)}</p><p>Start again from your MCP client.</p>`,
    );
  }
  throw error;
}

export function consentRoutes(deps: { now: () => number }) {
  const router = createRouter();

  router.get(OAUTH_AUTHORIZE_PATH, async (c) => {
    const oauth = oauthApi(new URL(c.req.url).origin, c.env);
    let request: AuthRequest;
    try {
      // 1.
      request = await oauth.parseAuthRequest(c.req.raw);
    } catch (error) {
      return authorizationFailure(c, error);
    }
    // 2.
    const member = await sessionMember(c, deps.now());
    if (!member) return signInPage(c);
    // 3.
    if (!mayGrant(member.principal))
      return page(
        c,
        403,
        'You cannot grant this',
        '<p>Your role (viewer) cannot call tools, so it cannot grant tools:invoke. Ask an operator or admin.</p>',
      );
    const listed = await listAgents(c.env, member.principal);
    const agents = listed.ok ? listed.value : [];
    if (agents.length === 0)
      return page(
        c,
        400,
        'No agent to grant',
        '<p>Your workspace has no agent yet. Create one (POST /api/v1/agents), then start again.</p>',
      );
    const details = await oauth.describeConsent(request);
    const consent = await oauth.beginConsent(request);
    const token = formToken(member.sessionToken, consent.handle);
    consent.headers.delete('Content-Type');
    return page(
      c,
      200,
      `Allow ${details.clientName}?`,
      consentBody(details, agents, consent.handle, token),
      consent.headers,
      details.redirectUri,
    );
  });

  router.post(OAUTH_AUTHORIZE_PATH, async (c) => {
    const origin = new URL(c.req.url).origin;
    // 2.
    const member = await sessionMember(c, deps.now());
    if (!member) return signInPage(c);
    // 3.
    if (!mayGrant(member.principal))
      return page(c, 403, 'You cannot grant this', '<p>Your role (viewer) cannot call tools, so it cannot grant tools:invoke.</p>');
    // 4.
    const sentOrigin = c.req.header('Origin');
    const form = await c.req.formData().catch(() => undefined);
    const handle = form?.get('handle');
    const sentToken = form?.get('csrf');
    const originOk = sentOrigin === undefined || isAllowedOrigin(sentOrigin, c.req.url, parseAllowedOrigins(c.env.ALLOWED_ORIGINS));
    if (
      !originOk ||
      typeof handle !== 'string' ||
      typeof sentToken !== 'string' ||
      !timingSafeEqualText(sentToken, formToken(member.sessionToken, handle))
    )
      return page(
        c,
        403,
        'This form has expired',
        '<p>The form could not be verified (CSRF). Nothing was granted. Start again from your MCP client.</p>',
      );
    const oauth = oauthApi(origin, c.env);
    try {
      // 5.
      if (form?.get('decision') !== 'approve') {
        const denied = await oauth.denyConsent(c.req.raw, handle);
        denied.headers.set('Location', denied.redirectTo);
        return new Response(null, { status: 302, headers: denied.headers });
      }
      // 6.
      const agentId = form.get('agent');
      const agent =
        typeof agentId === 'string' ? await agentInWorkspace(createDb(c.env.DB), member.principal.workspaceId, agentId) : undefined;
      if (!agent)
        return page(
          c,
          400,
          'Pick one agent',
          '<p>Choose one agent of your workspace. Nothing was granted; start again from your MCP client.</p>',
        );
      const approved = await oauth.approveConsent(c.req.raw, handle, { scope: [OAUTH_SCOPE] });
      const client = await oauth.lookupClient(approved.request.clientId);
      const clientName = client?.clientName ?? approved.request.clientId;
      const { principal } = member;
      const props: McpGrantProps = { workspaceId: principal.workspaceId, agentId: agent.id, userId: principal.userId };
      const { redirectTo } = await oauth.completeAuthorization({
        request: approved.request,
        userId: principal.userId,
        metadata: { workspaceId: principal.workspaceId, agentId: agent.id, clientName },
        scope: [OAUTH_SCOPE],
        props,
      });
      // The code is `userId:grantId:secret` (the library's format); the grant id is not a secret.
      const grantId = new URL(redirectTo).searchParams.get('code')?.split(':')[1];
      if (!grantId) throw new Error('completeAuthorization returned no code');
      await recordGrant(
        c.env,
        {
          id: grantId,
          workspaceId: principal.workspaceId,
          agentId: agent.id,
          userId: principal.userId,
          clientId: approved.request.clientId,
          clientName,
          scope: [OAUTH_SCOPE],
          redirectUris: client?.redirectUris ?? [],
        },
        `user:${principal.userId}`,
        deps.now(),
      );
      approved.headers.set('Location', redirectTo);
      c.set('contentSecurityPolicy', pageCsp(redirectTo));
      return new Response(null, { status: 302, headers: approved.headers });
    } catch (error) {
      return authorizationFailure(c, error);
    }
  });

  return router;
}
