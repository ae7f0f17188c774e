/**
 * The operator dashboard in a real browser (Debian chromium + playwright-core) against
 * `npm run dev`: one operator's whole path — setup → sign in → API key → Slack connector →
 * install a tool → (the agent's key) invokes it → approve → audit log → verify the chain →
 * the agent's settings, a conversation (a stand-in model) and its usage chart —
 * with no CSP violation and no console error, axe on every page, every page's CSP asserted,
 * XSS probes rendered as text, and the form CSRF check attacked. Screenshots of the main pages
 * (desktop and phone) are written to docs/screenshots/ with UPDATE_SCREENSHOTS=1.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_UPDATES_SHA256, PAGE_CSP } from '../../src/dashboard/page-csp.ts';
import { BROWSER_ENV_FILE, BROWSER_MODEL_PORT, BROWSER_TEST_PORT } from './global-setup.ts';
import { STAND_IN_REPLY, startModelServer } from '../loopback/model-server.ts';

const BASE = `http://localhost:${BROWSER_TEST_PORT}`;
const root = join(import.meta.dirname, '..', '..');
const SHOTS = join(root, 'docs', 'screenshots');
const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery staple 42';
const AGENT_XSS = '<img src=x onerror=alert(1)>';
const TOOL_DESCRIPTION_XSS = 'Says it back </script><script>alert(2)</script>';
const MODEL_NAME_XSS = 'stand-in </script><img src=x onerror=alert(3)>';
const MANIFEST = {
  name: 'browser-tools',
  version: '1.0.0',
  tools: [
    {
      name: 'echo',
      description: TOOL_DESCRIPTION_XSS,
      capabilities: ['exec:spawn:echo'],
      inputSchema: {
        type: 'object',
        properties: { message: { type: 'string', maxLength: 200 } },
        required: ['message'],
        additionalProperties: false,
      },
      run: { argv: ['echo', '{message}'] },
    },
  ],
};

function setupToken(): string {
  const match = /^SETUP_TOKEN=(.+)$/m.exec(readFileSync(BROWSER_ENV_FILE, 'utf8'));
  if (!match?.[1]) throw new Error(`no SETUP_TOKEN in ${BROWSER_ENV_FILE}`);
  return match[1];
}

let userDataDir: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const dialogs: string[] = [];
/** Every HTML document the browser loaded: its URL and CSP. */
const documents: Array<{ url: string; status: number; csp: string | undefined; cacheControl: string | undefined }> = [];
const axeFindings: Array<{ url: string; id: string; impact: string | null | undefined }> = [];
const state: { apiKey?: string; agentPath?: string; agentId?: string; inviteToken?: string } = {};

/** Checks the page with axe (serious and critical findings are failures) and takes the screenshots. */
async function checkPage(name?: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  for (const violation of results.violations)
    if (violation.impact === 'serious' || violation.impact === 'critical')
      axeFindings.push({ url: page.url(), id: violation.id, impact: violation.impact });
  // Screenshots are documentation, rewritten only on request (UPDATE_SCREENSHOTS=1), so a test
  // run leaves the tree as it was; the pages are rendered and checked either way.
  if (!name || process.env.UPDATE_SCREENSHOTS !== '1') return;
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function submit(button: string): Promise<void> {
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: button }).click()]);
}

beforeAll(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'portcullis-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document') return;
    const headers = response.headers();
    documents.push({
      url: response.url(),
      status: response.status(),
      csp: headers['content-security-policy'],
      cacheControl: headers['cache-control'],
    });
  });
});

afterAll(async () => {
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
});

describe('the operator dashboard in Chromium', () => {
  it('first-time setup with the setup token, then sign-in: the __Host- session cookie is accepted on http://localhost', async () => {
    await page.goto(`${BASE}/`);
    expect(new URL(page.url()).pathname).toBe('/setup');
    await checkPage('setup');
    await page.getByLabel('Setup token').fill(setupToken());
    await page.getByLabel('Workspace name').fill('Acme');
    await page.getByLabel('Your email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await submit('Create workspace and owner');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Setup is complete');

    await page.getByLabel('Password').fill(PASSWORD);
    await checkPage('sign-in');
    await submit('Sign in');
    expect(new URL(page.url()).pathname).toBe('/');
    const cookies = await context.cookies(BASE);
    const session = cookies.find((cookie) => cookie.name === '__Host-portcullis_session');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    // The forms' CSRF token is derived from the session (src/auth/form-token.ts): no second cookie.
    expect(cookies.map((cookie) => cookie.name)).toEqual(['__Host-portcullis_session']);
    await expect.poll(() => page.locator('main').textContent()).toContain(`Signed in as ${EMAIL}`);
    await checkPage('overview');
  });

  it('creates an API key for the agent (tools:invoke) and shows it once, never again', async () => {
    await page.goto(`${BASE}/keys`);
    await checkPage();
    await page.getByLabel('Name').fill('support-bot runtime');
    await page.getByLabel('tools:invoke').check();
    await submit('Create key');
    const key = (await page.getByLabel('The new API key').textContent())?.trim() ?? '';
    expect(key).toMatch(/^pcl_/);
    await checkPage('api-key-created');
    state.apiKey = key;
    await page.goto(`${BASE}/keys`);
    expect(await page.content()).not.toContain(key);
    await expect.poll(() => page.locator('table').textContent()).toContain('support-bot runtime');
    await checkPage('api-keys');
  });

  it('creates an agent named like an XSS probe: it renders as text everywhere', async () => {
    await page.goto(`${BASE}/agents`);
    await checkPage();
    await page.getByLabel('Name').fill(AGENT_XSS);
    await page.getByLabel('Description').fill('Answers support questions in Slack');
    await submit('Create agent');
    state.agentPath = new URL(page.url()).pathname;
    state.agentId = decodeURIComponent(state.agentPath.split('/')[2] ?? '');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(`Agent: ${AGENT_XSS}`);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await page.goto(`${BASE}/agents`);
    expect(await page.getByRole('link', { name: AGENT_XSS }).count()).toBe(1);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
  });

  it('adds a Slack connector and shows the exact webhook URL with the steps for Slack', async () => {
    await page.goto(`${BASE}${state.agentPath}`);
    await page.getByLabel('Platform').selectOption('slack');
    await page.getByLabel('Slack signing secret').fill('8f742231b10e8888abcd99yyyzzz85a5');
    await submit('Add connector');
    const url = (await page.locator('.notice.ok .secret').first().textContent())?.trim() ?? '';
    expect(url).toMatch(new RegExp(`^${BASE}/hooks/slack/con_[A-Za-z0-9_-]+$`));
    expect(await page.content()).not.toContain('8f742231b10e8888abcd99yyyzzz85a5');
    await page.getByText('How to connect slack').click();
    await expect.poll(() => page.locator('details ol').first().textContent()).toContain('Event Subscriptions');
    await checkPage('connector');
  });

  it('installs a tool from a pasted manifest (approval always) and shows its compiled policy per target', async () => {
    await page.goto(`${BASE}${state.agentPath}`);
    await page.getByLabel('Manifest (JSON)').fill(JSON.stringify(MANIFEST, null, 2));
    await page.getByLabel('Approval for these tools').selectOption('always');
    await submit('Install');
    await expect.poll(() => page.locator('#tools + table, table').last().textContent()).toContain(TOOL_DESCRIPTION_XSS);
    await checkPage('agent');
    await page.getByRole('link', { name: 'echo', exact: true }).click();
    await page.waitForLoadState('load');
    await expect.poll(() => page.getByLabel('Compiled policy for bwrap').textContent()).toContain('"target": "bwrap"');
    await page.getByRole('link', { name: 'cloudflare', exact: true }).click();
    await expect.poll(() => page.getByLabel('Compiled policy for cloudflare').textContent()).toContain('"target": "cloudflare"');
    await checkPage('tool');
  });

  it('the agent’s key invokes the tool while the approvals page is open: the new approval appears without a reload; the operator approves exactly the arguments shown; it runs', async () => {
    // The live-updates script opens the events socket with the session cookie and subscribes.
    // Frames are recorded from the moment the socket exists: the answer can arrive before a
    // listener attached after `await socket` would see it.
    const received: string[] = [];
    const socket = page.waitForEvent('websocket').then((ws) => {
      ws.on('framereceived', (frame) => received.push(String(frame.payload)));
      return ws;
    });
    await page.goto(`${BASE}/approvals`);
    await expect.poll(() => page.locator('main').textContent()).toContain('Nothing is waiting for approval');
    const ws = await socket;
    expect(new URL(ws.url()).pathname).toBe('/api/v1/events');
    await expect.poll(() => received.some((payload) => payload.includes('"subscribed"')), { timeout: 30_000 }).toBe(true);
    const documentsBefore = documents.length;
    const response = await fetch(`${BASE}/api/v1/agents/${encodeURIComponent(state.agentId ?? '')}/tools/echo/invocations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${state.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ arguments: { message: 'hello from the browser test' } }),
    });
    expect(response.status).toBe(202);
    const live = page.locator('#live-updates');
    await expect.poll(() => live.textContent(), { timeout: 15_000 }).toContain('New approval waiting: echo.');
    expect(await live.isVisible()).toBe(true);
    expect(documents.length).toBe(documentsBefore); // no navigation: the notice came over the socket
    await checkPage();
    await Promise.all([page.waitForLoadState('load'), live.getByRole('link', { name: 'Reload' }).click()]);
    await expect.poll(() => page.getByLabel('Arguments of echo').textContent()).toContain('"message": "hello from the browser test"');
    await checkPage('approvals');
    await submit('Approve and run');
    expect(new URL(page.url()).pathname).toMatch(/^\/invocations\//);
    await expect.poll(() => page.locator('main dl').textContent()).toContain('completed');
    await expect.poll(() => page.getByLabel('Standard output').textContent()).toContain('hello from the browser test');
    await checkPage('invocation');
  });

  it('the audit log shows the decision, filters by kind, pages, and verifies the chain', async () => {
    await page.goto(`${BASE}/audit`);
    await expect.poll(() => page.locator('table').textContent()).toContain('tool.approval.decided');
    await page.getByLabel('Kind').fill('tool.approval.decided');
    await submit('Filter');
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    await checkPage();
    await page.getByRole('link', { name: 'Verify the chain' }).click();
    await page.waitForLoadState('load');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Chain intact.');
    await checkPage('audit');
  });

  it('stores a credential bound to a host: only its mask is shown', async () => {
    await page.goto(`${BASE}/credentials`);
    await checkPage();
    await page.getByLabel('Name').fill('GITHUB_TOKEN');
    await page.getByLabel('Value').fill('ghp_browser_test_secret_value_1234');
    await page.getByLabel('Bound hosts').fill('api.github.com');
    await submit('Save credential');
    await expect.poll(() => page.locator('table').textContent()).toContain('api.github.com');
    expect(await page.content()).not.toContain('ghp_browser_test_secret_value_1234');
    await checkPage('credentials');
  });

  it('edits the agent’s settings without script: a refusal sits at its field, then model, guards and limits are saved', async () => {
    await page.goto(`${BASE}/credentials`);
    await page.getByLabel('Name').fill('MODEL_API_KEY');
    await page.getByLabel('Value').fill('sk-browser-test-model-key-5678');
    await submit('Save credential');
    await page.goto(`${BASE}${state.agentPath}/settings`);
    await checkPage();
    await page.getByLabel('Provider').selectOption('openai-compatible');
    await page.getByLabel('Model', { exact: true }).fill(MODEL_NAME_XSS);
    await page.getByLabel('API key credential').selectOption('MODEL_API_KEY');
    const logged = consoleErrors.length;
    await submit('Save settings');
    // The refusal answers 400 with the form (Chromium logs that status, sometimes after the
    // navigation settled: wait for it); nothing else may appear.
    const refusalLogged = 'error: Failed to load resource: the server responded with a status of 400 (Bad Request)';
    await expect.poll(() => consoleErrors.slice(logged)).toContain(refusalLogged);
    expect(consoleErrors.splice(logged)).toEqual([refusalLogged]);
    expect(await page.locator('#f-modelBaseUrl').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => page.locator('#f-modelBaseUrl-error').textContent()).toContain('needs a baseUrl');
    await checkPage();
    await page.getByLabel('Base URL').fill(`http://127.0.0.1:${BROWSER_MODEL_PORT}/v1`);
    await page.getByLabel('Injection guard').selectOption('warn');
    await page.getByLabel('Exfiltration guard').selectOption('approval');
    await page.getByLabel('Model steps per turn').fill('3');
    await submit('Save settings');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Settings saved.');
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe(MODEL_NAME_XSS);
    expect(await page.getByLabel('Injection guard').inputValue()).toBe('warn');
    expect(await page.content()).not.toContain('sk-browser-test-model-key-5678');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await checkPage('agent-settings');
  });

  it('a message to the agent appears as its transcript (text, never markup) and as usage per day: a chart and its table', async () => {
    const base = `${BASE}${state.agentPath}`;
    await page.goto(`${base}/usage`);
    await expect.poll(() => page.locator('main').textContent()).toContain('No turns in the last 30 days.');
    await checkPage();
    const model = await startModelServer(BROWSER_MODEL_PORT);
    try {
      const response = await fetch(`${BASE}/api/v1/agents/${encodeURIComponent(state.agentId ?? '')}/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${state.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: `Where is my order? ${AGENT_XSS}` }),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { reply: string }).reply).toBe(STAND_IN_REPLY);
      expect(model.requests()).toBe(1);
    } finally {
      await model.close();
    }
    await page.goto(`${base}/conversations`);
    const links = page.locator('main table a');
    expect(await links.count()).toBe(1);
    await checkPage('conversations');
    await Promise.all([page.waitForLoadState('load'), links.first().click()]);
    await expect.poll(() => page.locator('ol.transcript').textContent()).toContain(`Where is my order? ${AGENT_XSS}`);
    expect(await page.locator('ol.transcript').textContent()).toContain(STAND_IN_REPLY);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await checkPage('conversation');
    await page.goto(`${base}/usage`);
    expect(await page.getByRole('img', { name: /^Tokens per day/ }).count()).toBe(1);
    await expect.poll(() => page.locator('tbody tr').first().textContent()).toMatch(/^\d{4}-\d{2}-\d{2}11,200300/);
    await checkPage('usage');
    await page.goto(`${base}/conversations`);
    await Promise.all([page.waitForLoadState('load'), page.locator('main table a').first().click()]);
    await submit('Delete conversation');
    expect(new URL(page.url()).pathname).toBe(`${state.agentPath}/conversations`);
    await expect.poll(() => page.locator('main').textContent()).toContain('No conversations yet.');
    await checkPage();
  });

  it('invites a member (the token shown once) and shows the change-password page', async () => {
    await page.goto(`${BASE}/members`);
    await page.getByLabel('Email').fill('operator@example.com');
    await page.getByLabel('Role', { exact: true }).selectOption('operator');
    await submit('Invite');
    state.inviteToken = (await page.locator('.notice .secret').textContent())?.trim() ?? '';
    expect(state.inviteToken.length).toBeGreaterThan(20);
    await checkPage('members');
    await page.goto(`${BASE}/account/password`);
    await checkPage();
  });

  it('sign-out ends the session; the invited member accepts the invitation and signs in', async () => {
    await page.goto(`${BASE}/`);
    await submit('Sign out');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.goto(`${BASE}/keys`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.goto(`${BASE}/reset`);
    await checkPage();
    await page.goto(`${BASE}/accept-invite`);
    await checkPage();
    await page.getByLabel('Invitation token').fill(state.inviteToken ?? '');
    await page.getByLabel('New password').fill('an operator passphrase 77');
    await submit('Accept and set password');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByLabel('Email').fill('operator@example.com');
    await page.getByLabel('Password').fill('an operator passphrase 77');
    await submit('Sign in');
    await expect.poll(() => page.locator('main').textContent()).toContain('Signed in as operator@example.com (operator)');
    expect(await page.getByRole('link', { name: 'Members' }).count()).toBe(0);
    await submit('Sign out');
  });

  it('the owner removes that member: a confirmation page first (no script), then the member is gone', async () => {
    await page.goto(`${BASE}/sign-in`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await submit('Sign in');
    await page.goto(`${BASE}/members`);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('link', { name: 'Remove operator@example.com' }).click()]);
    await expect.poll(() => page.locator('main').textContent()).toContain('Remove operator@example.com (operator) from this workspace?');
    await checkPage('member-remove');
    await submit('Remove operator@example.com');
    expect(new URL(page.url()).pathname).toBe('/members');
    expect(await page.locator('table').textContent()).not.toContain('operator@example.com');
  });

  it('during the whole run: no console error or CSP violation, no dialog (XSS), no serious or critical axe finding', () => {
    expect(consoleErrors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(axeFindings).toEqual([]);
  });

  it('every page carried the page CSP (only the live-updates script, by hash; no framing; forms to self) and Cache-Control: no-store', () => {
    expect(documents.length).toBeGreaterThan(15);
    for (const doc of documents)
      expect({ url: doc.url, csp: doc.csp, cacheControl: doc.cacheControl }).toEqual({
        url: doc.url,
        csp: PAGE_CSP,
        cacheControl: 'no-store',
      });
    expect(PAGE_CSP).toContain(`script-src '${LIVE_UPDATES_SHA256}'`);
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(PAGE_CSP).toContain("form-action 'self'");
    expect(PAGE_CSP).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('API responses keep their own policy, default-src none', async () => {
    const response = await fetch(`${BASE}/api/v1/setup`);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
  });
});

describe('form CSRF (the session cookie alone is never enough)', () => {
  async function signedInRequest() {
    const request = context.request;
    const form = await (await request.get(`${BASE}/sign-in`)).text();
    expect(form).toContain('Sign in');
    const signedIn = await request.post(`${BASE}/sign-in`, {
      form: { email: EMAIL, password: PASSWORD },
      headers: { Origin: BASE },
      maxRedirects: 0,
    });
    expect(signedIn.status()).toBe(303);
    return request;
  }

  /** The `_csrf` value the keys page rendered into its forms, as a browser would post it back. */
  async function formToken(request: Awaited<ReturnType<typeof signedInRequest>>): Promise<string> {
    return /name="_csrf" value="([^"]*)"/.exec(await (await request.get(`${BASE}/keys`)).text())?.[1] ?? '';
  }

  async function keyCount(request: Awaited<ReturnType<typeof signedInRequest>>): Promise<number> {
    return ((await (await request.get(`${BASE}/keys`)).text()).match(/Revoke key /g) ?? []).length;
  }

  it('a form post without the _csrf field, with a wrong one, or with only the API header is refused (403) and writes nothing', async () => {
    const request = await signedInRequest();
    const before = await keyCount(request);
    const csrf = await formToken(request);
    expect(csrf).not.toBe('');
    const attempts: Array<{ form: Record<string, string>; headers: Record<string, string> }> = [
      { form: { name: 'no token', scopes: 'audit:read' }, headers: { Origin: BASE } },
      { form: { name: 'wrong token', scopes: 'audit:read', _csrf: 'x'.repeat(43) }, headers: { Origin: BASE } },
      { form: { name: 'header only', scopes: 'audit:read' }, headers: { Origin: BASE, 'X-CSRF-Token': csrf } },
      { form: { name: 'foreign origin', scopes: 'audit:read', _csrf: csrf }, headers: { Origin: 'http://localhost.evil.example' } },
    ];
    for (const attempt of attempts) {
      const response = await request.post(`${BASE}/keys`, { ...attempt, maxRedirects: 0 });
      expect(response.status(), attempt.form.name ?? '').toBe(403);
    }
    expect(await keyCount(request)).toBe(before);
    const accepted = await request.post(`${BASE}/keys`, {
      form: { name: 'right token', scopes: 'audit:read', _csrf: csrf },
      headers: { Origin: BASE },
    });
    expect(accepted.status()).toBe(201);
    expect(await keyCount(request)).toBe(before + 1);
  });

  it('the API does not accept the form field in place of its X-CSRF-Token header', async () => {
    const request = await signedInRequest();
    const csrf = await formToken(request);
    expect(csrf).not.toBe('');
    const response = await request.post(`${BASE}/api/v1/api-keys?_csrf=${encodeURIComponent(csrf)}`, {
      data: { name: 'via api', scopes: ['audit:read'], _csrf: csrf },
      headers: { Origin: BASE },
    });
    expect(response.status()).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('CSRF_FAILED');
  });
});
