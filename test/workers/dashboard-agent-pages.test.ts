/**
 * The dashboard's agent runtime pages (docs/dashboard.md), as a browser without JavaScript
 * uses them: HTML forms posted with the session cookie and the `_csrf` field, through the
 * real app. Settings go through the same updateAgent as PATCH /api/v1/agents/:id, so every
 * refusal here is checked against the API's view of the agent: nothing written.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { PAGE_CSP } from '../../src/dashboard';
import { ORIGIN, postJson } from './helpers';
import { asSession, inviteUser, login as loginViaWorker, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';
import { MODEL_BASE, scriptedModel, type ScriptStep } from './scripted-model';
import { LOCAL_EXECUTOR, stubRunner } from './tools-support';

const MODEL_KEY = 'sk-model-provider-key-0123456789abcdefSECRET';
const VAULT_SECRET = 'ghp_vaultSecretTheModelMustNotRepeat0123456789';
const XSS = '<img src=x onerror=alert(1)></script><script>alert(2)</script>';
const XSS_ESCAPED = '&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;';
const HOUR_MS = 3_600_000;

// One injected clock for the sessions, the turns and the pages: the usage days are the clock's, on any date.
let clock = Date.UTC(2026, 2, 1, 20, 0, 0);
const script: ScriptStep[] = [];
const model = scriptedModel(script, stubRunner(() => ({ stdout: '' })).fetch);
const app = createApp({ loginThrottle: testThrottle, now: () => clock, fetch: model.fetch });
const bindings = { ...env, ...LOCAL_EXECUTOR };

let owner: Session;
let viewer: Session;
let ownerB: Session;

async function request(session: Session | null, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (session) headers.set('Cookie', session.cookie);
  headers.set('CF-Connecting-IP', '198.51.100.7');
  return app.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers, redirect: 'manual' }), bindings);
}

async function login(email: string, password: string): Promise<Session> {
  const res = await request(null, '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { csrfToken: string; user: { id: string; workspaceId: string } };
  return {
    cookie: (res.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '',
    csrfToken: body.csrfToken,
    userId: body.user.id,
    workspaceId: body.user.workspaceId,
  };
}

function api(session: Session, path: string, init: { method?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { 'X-CSRF-Token': session.csrfToken };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  return request(session, path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function page(session: Session, path: string): Promise<{ status: number; html: string; res: Response }> {
  const res = await request(session, path);
  return { status: res.status, html: await res.text(), res };
}

/** The `_csrf` value the dashboard renders into this session's forms (derived from the session, not the API's token). */
const formTokens = new Map<string, string>();
async function formToken(session: Session): Promise<string> {
  const known = formTokens.get(session.cookie);
  if (known) return known;
  const { status, html } = await page(session, '/');
  expect(status).toBe(200);
  const token = /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  formTokens.set(session.cookie, token);
  return token;
}

/** A form post as the browser sends it: urlencoded, same Origin, the session's form token in `_csrf` (unless the attempt leaves it out). */
async function post(session: Session, path: string, form: Record<string, string>, options: { csrf?: string | null; origin?: string } = {}) {
  const fields = new URLSearchParams(form);
  if (options.csrf !== null) fields.set('_csrf', options.csrf ?? (await formToken(session)));
  const res = await request(session, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: options.origin ?? ORIGIN },
    body: fields.toString(),
  });
  return { status: res.status, html: await res.text(), location: res.headers.get('Location') };
}

async function agentJson(session: Session, id: string) {
  const res = await api(session, `/api/v1/agents/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown> & { updatedAt: number };
}

async function newAgent(name: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api(owner, '/api/v1/agents', { method: 'POST', body: { name, isolation: 'sandbox', ...body } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function withModel(name: string): Promise<string> {
  const id = await newAgent(name);
  const model = { provider: 'openai-compatible', model: 'scripted', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' };
  expect((await api(owner, `/api/v1/agents/${id}`, { method: 'PATCH', body: { model } })).status).toBe(200);
  return id;
}

async function sendMessage(agentId: string, text: string, reply: ScriptStep): Promise<string> {
  script.push(reply);
  const res = await api(owner, `/api/v1/agents/${agentId}/messages`, { method: 'POST', body: { text } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { conversationId: string }).conversationId;
}

/** The settings form's fields for a complete, valid save (each attempt changes one). */
const VALID_FORM: Record<string, string> = {
  isolation: 'sandbox',
  modelProvider: 'openai-compatible',
  modelName: 'gpt-test',
  modelBaseUrl: MODEL_BASE,
  modelCredential: 'MODEL_KEY',
  guardInjection: 'warn',
  guardSecrets: 'block',
  guardOutput: 'off',
  guardExfiltration: 'approval',
  limitMaxSteps: '3',
  limitMaxToolCalls: '',
  limitMaxTokensPerTurn: '',
  limitMaxTurnMs: '',
  limitDailyTokenBudget: '50000',
  systemPrompt: 'Answer briefly.',
};

/** The `<p class="error">` shown for an input and whether the input is marked aria-invalid. */
function fieldError(html: string, field: string): string | null {
  const invalid = new RegExp(`id="f-${field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="f-${field}"`).test(html);
  const message = new RegExp(`<p class="error" id="f-${field}-error">([^<]*)</p>`).exec(html)?.[1] ?? null;
  return invalid ? message : null;
}

beforeAll(async () => {
  await setupInstance('Pages A');
  owner = await login(OWNER.email, OWNER.password);
  const ownerViaWorker = await loginViaWorker(OWNER.email, OWNER.password);
  await inviteUser(ownerViaWorker, 'viewer@example.com', 'viewer', 'viewer passphrase long enough');
  viewer = await login('viewer@example.com', 'viewer passphrase long enough');
  const res = await asSession(ownerViaWorker, '/api/v1/workspaces', {
    method: 'POST',
    body: { name: 'Pages B', ownerEmail: 'b@example.com' },
  });
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'owner b passphrase long' });
  ownerB = await login('b@example.com', 'owner b passphrase long');
  for (const [name, value] of [
    ['MODEL_KEY', MODEL_KEY],
    ['REPO_TOKEN', VAULT_SECRET],
  ] as const)
    expect((await api(owner, `/api/v1/credentials/${name}`, { method: 'PUT', body: { value } })).status).toBeLessThan(300);
});

describe('agent settings page', () => {
  it('shows the stored settings, the workspace’s credential names (never a key) and the page CSP', async () => {
    const id = await newAgent('settings-view', { settings: { maxOutputTokens: 500 } });
    const { status, html, res } = await page(owner, `/agents/${id}/settings`);
    expect(status).toBe(200);
    expect(res.headers.get('Content-Security-Policy')).toBe(PAGE_CSP);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(html).toContain('<option value="MODEL_KEY">MODEL_KEY</option>');
    expect(html).toContain('<option value="REPO_TOKEN">REPO_TOKEN</option>');
    expect(html).not.toContain(MODEL_KEY);
    expect(html).not.toContain(VAULT_SECRET);
    // Strict defaults are what an unconfigured agent shows.
    expect(html).toMatch(/id="f-guardInjection"[^>]*>(?:(?!<\/select>).)*<option value="block" selected/s);
    expect(html).toMatch(/id="f-guardExfiltration"[^>]*>(?:(?!<\/select>).)*<option value="withhold" selected/s);
    expect(html).toContain('placeholder="default 8"');
    expect(html).not.toMatch(/\sstyle=/);
  });

  it('saves model, guards, limits and isolation through updateAgent: the API shows them, the rest of the settings and the classifier are kept', async () => {
    const id = await newAgent('settings-save', { settings: { maxOutputTokens: 500, toolTimeoutMs: 5000 } });
    const classifier = { provider: 'anthropic', model: 'claude-classifier', credential: 'MODEL_KEY' };
    expect((await api(owner, `/api/v1/agents/${id}`, { method: 'PATCH', body: { guards: { classifier } } })).status).toBe(200);
    const saved = await post(owner, `/agents/${id}/settings`, VALID_FORM);
    expect(saved.status).toBe(200);
    expect(saved.html).toContain('Settings saved.');
    const agent = await agentJson(owner, id);
    expect(agent).toMatchObject({
      isolation: 'sandbox',
      model: { provider: 'openai-compatible', model: 'gpt-test', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' },
      guards: { injection: 'warn', secrets: 'block', output: 'off', exfiltration: 'approval', classifier },
      settings: {
        maxOutputTokens: 500,
        toolTimeoutMs: 5000,
        systemPrompt: 'Answer briefly.',
        turnLimits: { maxSteps: 3, dailyTokenBudget: 50000 },
      },
    });
    expect(Object.keys(agent.settings as object).sort()).toEqual(['maxOutputTokens', 'systemPrompt', 'toolTimeoutMs', 'turnLimits']);
    const audit = await env.DB.prepare(
      `SELECT data FROM audit_events WHERE kind = 'agent.guard.changed' AND json_extract(data, '$.agentId') = ? ORDER BY rowid DESC LIMIT 1`,
    )
      .bind(id)
      .first<{ data: string }>();
    expect(JSON.parse(audit?.data ?? '{}')).toMatchObject({ injection: 'warn', output: 'off', exfiltration: 'approval' });

    // Provider "none" removes the model, as PATCH {"model": null} does; cleared limits fall back to the defaults.
    const cleared = await post(owner, `/agents/${id}/settings`, {
      ...VALID_FORM,
      modelProvider: '',
      modelName: '',
      modelBaseUrl: '',
      modelCredential: '',
      limitMaxSteps: '',
      limitDailyTokenBudget: '',
    });
    expect(cleared.status).toBe(200);
    const after = await agentJson(owner, id);
    expect(after.model).toBeNull();
    expect(after.settings).not.toHaveProperty('turnLimits');
  });

  const refusals: Array<{ name: string; change: Record<string, string>; field: string; status: number }> = [
    { name: 'openai-compatible without a base URL', change: { modelBaseUrl: '' }, field: 'modelBaseUrl', status: 400 },
    { name: 'a base URL over plain http', change: { modelBaseUrl: 'http://model.example.com/v1' }, field: 'modelBaseUrl', status: 400 },
    { name: 'a base URL at a private address', change: { modelBaseUrl: 'https://10.0.0.7/v1' }, field: 'modelBaseUrl', status: 400 },
    { name: 'a credential that is not in the vault', change: { modelCredential: 'NOT_STORED' }, field: 'modelCredential', status: 400 },
    { name: 'a credential name the vault never accepts', change: { modelCredential: XSS }, field: 'modelCredential', status: 400 },
    { name: 'a provider nobody offers', change: { modelProvider: 'openai-responses' }, field: 'modelProvider', status: 400 },
    { name: 'a model without a name', change: { modelName: '  ' }, field: 'modelName', status: 400 },
    { name: 'model fields without a provider', change: { modelProvider: '' }, field: 'modelProvider', status: 400 },
    { name: 'zero model steps', change: { limitMaxSteps: '0' }, field: 'limitMaxSteps', status: 400 },
    { name: 'a limit that is not a whole number', change: { limitMaxTurnMs: '1.5e3x' }, field: 'limitMaxTurnMs', status: 400 },
    { name: 'a limit above its bound', change: { limitMaxToolCalls: '101' }, field: 'limitMaxToolCalls', status: 400 },
    { name: 'a guard mode that does not exist', change: { guardInjection: 'disabled' }, field: 'guardInjection', status: 400 },
    { name: 'a block mode for exfiltration', change: { guardExfiltration: 'block' }, field: 'guardExfiltration', status: 400 },
    {
      name: 'isolation unrestricted on a deployment that forbids it',
      change: { isolation: 'unrestricted' },
      field: 'isolation',
      status: 403,
    },
    { name: 'an unknown isolation level', change: { isolation: 'vm' }, field: 'isolation', status: 400 },
    { name: 'a system prompt over 16 KiB', change: { systemPrompt: 'x'.repeat(16_385) }, field: 'systemPrompt', status: 400 },
  ];

  it.each(refusals)('refuses $name: the error sits at that field, the agent is unchanged', async ({ change, field, status }) => {
    const id = await newAgent(`refusal-${field}`);
    const before = await agentJson(owner, id);
    const refused = await post(owner, `/agents/${id}/settings`, { ...VALID_FORM, ...change });
    expect(refused.status).toBe(status);
    expect(fieldError(refused.html, field)).toBeTruthy();
    expect(refused.html).not.toContain('Settings saved.');
    expect(refused.html).not.toContain('<img src=x');
    expect(await agentJson(owner, id)).toEqual(before);
  });

  it('a post without the right _csrf, from a foreign Origin, by a viewer or for another workspace’s agent writes nothing', async () => {
    const id = await newAgent('settings-attacks');
    const before = await agentJson(owner, id);
    const path = `/agents/${id}/settings`;
    expect((await post(owner, path, VALID_FORM, { csrf: null })).status).toBe(403);
    expect((await post(owner, path, VALID_FORM, { csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await post(owner, path, VALID_FORM, { origin: 'https://gateway.example.com.evil.example' })).status).toBe(403);
    expect((await post(viewer, path, VALID_FORM)).status).toBe(403);
    expect((await post(ownerB, path, VALID_FORM)).status).toBe(404);
    expect((await page(ownerB, path)).status).toBe(404);
    expect(await agentJson(owner, id)).toEqual(before);
    const readOnly = await page(viewer, path);
    expect(readOnly.status).toBe(200);
    expect(readOnly.html).not.toContain('Save settings');
  });

  it('a model name like an XSS probe renders as text', async () => {
    const id = await newAgent('settings-xss');
    const saved = await post(owner, `/agents/${id}/settings`, { ...VALID_FORM, modelName: XSS });
    expect(saved.status).toBe(200);
    for (const path of [`/agents/${id}/settings`, `/agents/${id}`]) {
      const { html } = await page(owner, path);
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain('<script>alert');
      expect(html).toContain(XSS_ESCAPED);
    }
  });
});

describe('conversations pages', () => {
  it('lists a conversation and shows its transcript redacted, with model text like an XSS probe as text', async () => {
    const id = await withModel('talker');
    // The output guard would strip the HTML from the reply; off, the page alone must keep it text.
    expect((await api(owner, `/api/v1/agents/${id}`, { method: 'PATCH', body: { guards: { output: 'off' } } })).status).toBe(200);
    const cid = await sendMessage(id, `Please repeat ${XSS}`, { text: `Sure: ${XSS} and the token ${VAULT_SECRET}` });
    const list = await page(owner, `/agents/${id}/conversations`);
    expect(list.status).toBe(200);
    expect(list.res.headers.get('Content-Security-Policy')).toBe(PAGE_CSP);
    expect(list.html).toContain(`href="/agents/${id}/conversations/${cid}"`);
    const transcript = await page(owner, `/agents/${id}/conversations/${cid}`);
    expect(transcript.status).toBe(200);
    expect(transcript.res.headers.get('Content-Security-Policy')).toBe(PAGE_CSP);
    expect(transcript.html).toContain(`Please repeat ${XSS_ESCAPED}</p>`);
    expect(transcript.html).toContain(`Sure: ${XSS_ESCAPED} and the token [REDACTED]`);
    expect(transcript.html).not.toContain(VAULT_SECRET);
    expect(transcript.html).not.toContain('<img src=x');
    expect(transcript.html).not.toContain('<script>alert');
    expect(transcript.html).not.toMatch(/\sstyle=/);
    expect((await page(ownerB, `/agents/${id}/conversations/${cid}`)).status).toBe(404);
    expect((await page(ownerB, `/agents/${id}/conversations`)).status).toBe(404);
  });

  it('pages through 27 conversations 25 at a time, the same ones the API pages through, none twice', async () => {
    const id = await withModel('busy');
    const made: string[] = [];
    for (let i = 0; i < 27; i++) {
      clock += 1000;
      made.push(await sendMessage(id, `message ${i}`, { text: `reply ${i}` }));
    }
    const linked = (html: string) =>
      [...html.matchAll(new RegExp(`href="/agents/${id}/conversations/(cnv_[0-9a-f]{32})"`, 'g'))].map((m) => m[1]);
    const first = await page(owner, `/agents/${id}/conversations`);
    const firstIds = linked(first.html);
    expect(firstIds).toEqual([...made].reverse().slice(0, 25));
    const next = /href="([^"]*\?cursor=[^"]+)"/.exec(first.html)?.[1]?.replaceAll('&amp;', '&') ?? '';
    expect(next).not.toBe('');
    const second = await page(owner, next);
    expect(linked(second.html)).toEqual([...made].reverse().slice(25));
    expect(second.html).toContain('First page');
    expect(second.html).not.toContain('Older conversations');

    const viaApi: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api(owner, `/api/v1/agents/${id}/conversations?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { conversations: Array<{ id: string }>; nextCursor: string | null };
      viaApi.push(...body.conversations.map((c) => c.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(viaApi).toEqual([...made].reverse());
    for (const bad of ['nope', '1.cnv_x', `${Date.now()}.cnv_${'0'.repeat(31)}`]) {
      expect((await api(owner, `/api/v1/agents/${id}/conversations?cursor=${encodeURIComponent(bad)}`)).status).toBe(400);
      expect((await page(owner, `/agents/${id}/conversations?cursor=${encodeURIComponent(bad)}`)).status).toBe(400);
    }
  });

  it('deletes a conversation only with the form’s _csrf and agents:write; then it is gone from the API too', async () => {
    const id = await withModel('forgetful');
    const cid = await sendMessage(id, 'remember this', { text: 'noted' });
    const path = `/agents/${id}/conversations/${cid}/delete`;
    expect((await post(owner, path, {}, { csrf: null })).status).toBe(403);
    expect((await post(owner, path, {}, { origin: 'null' })).status).toBe(403);
    expect((await post(viewer, path, {})).status).toBe(403);
    expect((await post(ownerB, path, {})).status).toBe(404);
    expect((await api(owner, `/api/v1/agents/${id}/conversations/${cid}`)).status).toBe(200);
    expect((await page(viewer, `/agents/${id}/conversations/${cid}`)).html).not.toContain('Delete conversation');
    const deleted = await post(owner, path, {});
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe(`/agents/${id}/conversations`);
    expect((await api(owner, `/api/v1/agents/${id}/conversations/${cid}`)).status).toBe(404);
    expect((await page(owner, `/agents/${id}/conversations`)).html).toContain('No conversations yet.');
  });
});

describe('usage page', () => {
  it('says so when the agent has no usage (no chart)', async () => {
    const id = await newAgent('idle');
    const { status, html, res } = await page(owner, `/agents/${id}/usage`);
    expect(status).toBe(200);
    expect(res.headers.get('Content-Security-Policy')).toBe(PAGE_CSP);
    expect(html).toContain('No turns in the last 30 days.');
    expect(html).not.toContain('<svg');
  });

  it('draws usage per UTC day as inline SVG (no script, no style attribute) with a table of the same figures as the API', async () => {
    const id = await withModel('counted');
    await sendMessage(id, 'day one', { text: 'one', inputTokens: 120, outputTokens: 30 });
    await sendMessage(id, 'day one again', { text: 'two', inputTokens: 80, outputTokens: 20 });
    clock += 20 * HOUR_MS; // the next UTC day
    await sendMessage(id, 'day two', { text: 'three', inputTokens: 1000, outputTokens: 400 });
    const usage = (await (await api(owner, `/api/v1/agents/${id}/usage`)).json()) as {
      days: Array<{ day: string; turns: number; inputTokens: number; outputTokens: number; toolCalls: number; steps: number }>;
    };
    expect(usage.days.map((d) => [d.day, d.turns, d.inputTokens, d.outputTokens])).toEqual([
      ['2026-03-02', 1, 1000, 400],
      ['2026-03-01', 2, 200, 50],
    ]);
    const { html, res } = await page(owner, `/agents/${id}/usage`);
    expect(res.headers.get('Content-Security-Policy')).toBe(PAGE_CSP);
    const svg = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(svg).toContain('role="img"');
    expect(svg).toContain('viewBox="0 0 ');
    // 30 days, two bars each (input, output), zero-height bars for the idle days.
    expect(svg.match(/<rect /g)?.length).toBe(60);
    expect(svg).toContain('<title id="usage-chart-title">Tokens per day, 2026-02-01 to 2026-03-02</title>');
    expect(svg).toContain('2026-03-02: 1,000 input, 400 output tokens, 1 turns');
    expect(html).not.toMatch(/\sstyle=|<script|\son[a-z]+=/);
    const rows = [...html.matchAll(/<tr><th scope="row">([^<]+)<\/th><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td>/g)].map((m) =>
      m.slice(1),
    );
    expect(rows).toEqual(usage.days.map((d) => [d.day, String(d.turns), d.inputTokens.toLocaleString('en-US'), String(d.outputTokens)]));
    const week = await page(owner, `/agents/${id}/usage?days=7`);
    expect(/<svg[\s\S]*?<\/svg>/.exec(week.html)?.[0]?.match(/<rect /g)?.length).toBe(14);
    expect((await page(ownerB, `/agents/${id}/usage`)).status).toBe(404);
  });
});
