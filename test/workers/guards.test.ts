import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { guardInboundSecrets, recordGuardVerdict, recordGuardVerdicts, type GuardVerdict } from '../../src/guards';
import { expectError } from './helpers';
import { asSession, countRows, login, OWNER, setupInstance, type Session } from './identity-helpers';

let owner: Session;
let workspaceId: string;

beforeAll(async () => {
  workspaceId = (await setupInstance()).workspaceId;
  owner = await login(OWNER.email, OWNER.password);
});

const STRICT = { injection: 'block', secrets: 'block', exfiltration: 'withhold', output: 'block', classifier: null };

async function newAgent(body: Record<string, unknown> = {}): Promise<{ id: string; guards: unknown; settings: unknown }> {
  const res = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'guarded', ...body } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; guards: unknown; settings: unknown };
}

async function guardAudits(agentId: string): Promise<{ kind: string; data: Record<string, unknown> }[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, data FROM audit_events WHERE kind LIKE 'agent.guard.%' AND json_extract(data, '$.agentId') = ? ORDER BY seq",
  )
    .bind(agentId)
    .all<{ kind: string; data: string }>();
  return results.map((row) => ({ kind: row.kind, data: JSON.parse(row.data) as Record<string, unknown> }));
}

describe('agent guards settings (PATCH /api/v1/agents/:id guards)', () => {
  it('a new agent is fully guarded by default, and says so', async () => {
    const agent = await newAgent();
    expect(agent.guards).toEqual(STRICT);
    expect(await guardAudits(agent.id)).toEqual([]);
  });

  it('PATCH stores the guards, shows them resolved, and audits the change', async () => {
    const agent = await newAgent({ settings: { maxConcurrentTools: 2 } });
    const patched = await asSession(owner, `/api/v1/agents/${agent.id}`, {
      method: 'PATCH',
      body: { guards: { injection: 'warn', exfiltration: 'approval' } },
    });
    expect(patched.status).toBe(200);
    const view = (await patched.json()) as { guards: unknown; settings: unknown };
    expect(view.guards).toEqual({ ...STRICT, injection: 'warn', exfiltration: 'approval' });
    expect(view.settings).toEqual({ maxConcurrentTools: 2 });
    const read = (await (await asSession(owner, `/api/v1/agents/${agent.id}`)).json()) as { guards: unknown };
    expect(read.guards).toEqual(view.guards);
    expect(await guardAudits(agent.id)).toEqual([
      {
        kind: 'agent.guard.changed',
        data: { agentId: agent.id, injection: 'warn', secrets: 'block', exfiltration: 'approval', output: 'block', classifier: null },
      },
    ]);
  });

  it('settings and guards each replace only their own part', async () => {
    const agent = await newAgent({ settings: { maxConcurrentTools: 2 }, guards: { output: 'warn' } });
    expect(agent.guards).toEqual({ ...STRICT, output: 'warn' });
    const settingsOnly = await asSession(owner, `/api/v1/agents/${agent.id}`, {
      method: 'PATCH',
      body: { settings: { toolTimeoutMs: 5000 } },
    });
    expect(((await settingsOnly.json()) as { guards: unknown }).guards).toEqual({ ...STRICT, output: 'warn' });
    const guardsOnly = await asSession(owner, `/api/v1/agents/${agent.id}`, { method: 'PATCH', body: { guards: { secrets: 'warn' } } });
    const view = (await guardsOnly.json()) as { guards: unknown; settings: unknown };
    // A guards PATCH replaces the guards as a whole: output falls back to its strict default.
    expect(view.guards).toEqual({ ...STRICT, secrets: 'warn' });
    expect(view.settings).toEqual({ toolTimeoutMs: 5000 });
  });

  it('a classifier is stored by provider, model and credential name, and audited without the credential', async () => {
    const agent = await newAgent();
    const put = await asSession(owner, '/api/v1/credentials/GUARD_KEY', {
      method: 'PUT',
      body: { value: 'guard-provider-key-0123456789' },
    });
    expect(put.status).toBeLessThan(300);
    const classifier = {
      provider: 'openai-compatible',
      model: 'guard-small',
      baseUrl: 'https://models.example.com/v1',
      credential: 'GUARD_KEY',
    };
    const res = await asSession(owner, `/api/v1/agents/${agent.id}`, { method: 'PATCH', body: { guards: { classifier } } });
    expect(((await res.json()) as { guards: unknown }).guards).toEqual({ ...STRICT, classifier });
    const [audit] = await guardAudits(agent.id);
    expect(audit?.data.classifier).toBe('openai-compatible/guard-small');
    expect(JSON.stringify(audit)).not.toContain('GUARD_KEY');
    expect(JSON.stringify(audit)).not.toContain('guard-provider-key');
  });

  // The classifier is a model call like the agent's own: the same base URL and credential rules.
  it.each([
    ['a base URL that is not a URL', { provider: 'openai-compatible', model: 'm', baseUrl: 'not a url' }, 'URL_NOT_ALLOWED'],
    ['a private base URL', { provider: 'openai-compatible', model: 'm', baseUrl: 'https://10.0.0.5/v1' }, 'URL_NOT_ALLOWED'],
    ['the metadata address', { provider: 'openai-compatible', model: 'm', baseUrl: 'http://169.254.169.254/latest' }, 'URL_NOT_ALLOWED'],
    ['plain http to a public host', { provider: 'anthropic', model: 'm', baseUrl: 'http://models.example.com/v1' }, 'URL_NOT_ALLOWED'],
    ['an openai-compatible classifier without a base URL', { provider: 'openai-compatible', model: 'm' }, 'VALIDATION_ERROR'],
    ['a credential that is not in the vault', { provider: 'anthropic', model: 'm', credential: 'NO_SUCH_KEY' }, 'VALIDATION_ERROR'],
  ])('refuses a classifier with %s, writing nothing', async (_name, classifier, code) => {
    const agent = await newAgent();
    const audits = await countRows('audit_events');
    const before = await env.DB.prepare('SELECT settings, updated_at FROM agents WHERE id = ?').bind(agent.id).first();
    await expectError(
      await asSession(owner, `/api/v1/agents/${agent.id}`, { method: 'PATCH', body: { guards: { classifier } } }),
      400,
      code,
    );
    expect(await env.DB.prepare('SELECT settings, updated_at FROM agents WHERE id = ?').bind(agent.id).first()).toEqual(before);
    expect(await countRows('audit_events')).toBe(audits);
  });

  it.each([
    ['an unknown guard', { guards: { shell: 'off' } }],
    ['an unknown mode', { guards: { injection: 'allow' } }],
    ['an exfiltration mode of another guard', { guards: { exfiltration: 'block' } }],
    ['a guard mode where exfiltration modes go', { guards: { output: 'withhold' } }],
    ['a classifier of an unknown provider', { guards: { classifier: { provider: 'mystery', model: 'm' } } }],
    [
      'a classifier credential that is not a credential name',
      { guards: { classifier: { provider: 'anthropic', model: 'm', credential: 'sk-ant-raw-key' } } },
    ],
    [
      'a classifier with an inline key',
      { guards: { classifier: { provider: 'anthropic', model: 'm', apiKey: 'sk-ant-0123456789abcdef0123' } } },
    ],
    ['guards that are not an object', { guards: 'off' }],
  ])('refuses %s with 400 and writes nothing', async (_name, body) => {
    const agent = await newAgent();
    const audits = await countRows('audit_events');
    const before = await env.DB.prepare('SELECT settings, updated_at FROM agents WHERE id = ?').bind(agent.id).first();
    const err = await expectError(await asSession(owner, `/api/v1/agents/${agent.id}`, { method: 'PATCH', body }), 400, 'VALIDATION_ERROR');
    expect(JSON.stringify(err)).not.toContain('sk-ant');
    expect(await env.DB.prepare('SELECT settings, updated_at FROM agents WHERE id = ?').bind(agent.id).first()).toEqual(before);
    expect(await countRows('audit_events')).toBe(audits);
  });

  it('refuses guards on create the same way, writing no agent', async () => {
    const agents = await countRows('agents');
    await expectError(
      await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'x', guards: { injection: 'none' } } }),
      400,
      'VALIDATION_ERROR',
    );
    expect(await countRows('agents')).toBe(agents);
  });

  it('a stored value that no longer parses resolves to the strict defaults, never to off', async () => {
    const agent = await newAgent({ guards: { injection: 'off', secrets: 'off', output: 'off', exfiltration: 'off' } });
    expect(agent.guards).toEqual({ injection: 'off', secrets: 'off', exfiltration: 'off', output: 'off', classifier: null });
    await env.DB.prepare(`UPDATE agents SET settings = json_set(settings, '$.guards.injection', 'disabled') WHERE id = ?`)
      .bind(agent.id)
      .run();
    const read = (await (await asSession(owner, `/api/v1/agents/${agent.id}`)).json()) as { guards: unknown };
    expect(read.guards).toEqual(STRICT);
  });
});

describe('recordGuardVerdict', () => {
  const place = (agentId: string) => ({ workspaceId, agentId, conversationId: 'cnv_test' });

  it('audits a verdict with its reasons and never the text or a secret', async () => {
    const agent = await newAgent();
    const key = 'ghp_' + 'a1B2c3D4e5F6'.repeat(3);
    const { verdict } = guardInboundSecrets(`here is my token ${key}`, 'block');
    await recordGuardVerdict(env, place(agent.id), verdict, Date.now());
    // A caller that passes text as a reason by mistake records `other`, not the text.
    const careless: GuardVerdict = {
      guard: 'injection',
      mode: 'warn',
      outcome: 'warned',
      reasons: ['ignore-instructions', `text: ${key}`],
    };
    await recordGuardVerdict(env, place(agent.id), careless, Date.now());
    const audits = await guardAudits(agent.id);
    expect(audits).toEqual([
      {
        kind: 'agent.guard.blocked',
        data: { agentId: agent.id, conversationId: 'cnv_test', guard: 'secrets', mode: 'block', reasons: ['github-token'] },
      },
      {
        kind: 'agent.guard.warned',
        data: {
          agentId: agent.id,
          conversationId: 'cnv_test',
          guard: 'injection',
          mode: 'warn',
          reasons: ['ignore-instructions', 'other'],
        },
      },
    ]);
    expect(JSON.stringify(await env.DB.prepare('SELECT data FROM audit_events').all())).not.toContain(key);
  });

  it('audits every verdict: passes of one step together, the rest one by one', async () => {
    const agent = await newAgent();
    await recordGuardVerdicts(
      env,
      place(agent.id),
      [
        { guard: 'secrets', mode: 'block', outcome: 'pass', reasons: [] },
        { guard: 'injection', mode: 'block', outcome: 'pass', reasons: [] },
        { guard: 'exfiltration', mode: 'withhold', outcome: 'withheld', reasons: ['egress-after-untrusted', 'tool:http_get', 'at:offer'] },
        { guard: 'exfiltration', mode: 'approval', outcome: 'needs-approval', reasons: ['egress-after-untrusted'] },
      ],
      Date.now(),
    );
    expect((await guardAudits(agent.id)).map((audit) => [audit.kind, audit.data.guards ?? audit.data.reasons])).toEqual([
      ['agent.guard.passed', ['secrets', 'injection']],
      ['agent.guard.withheld', ['egress-after-untrusted', 'tool:http_get', 'at:offer']],
      ['agent.guard.needs-approval', ['egress-after-untrusted']],
    ]);
  });
});
