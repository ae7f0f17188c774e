/**
 * Argument validation cannot be turned against the gateway (docs/sandbox.md "Argument
 * validation"): a manifest's `pattern` is untrusted code for a backtracking engine, and a
 * call's arguments are untrusted input of unbounded size. Every attempt checks that nothing
 * was stored and nothing ran.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARGUMENT_ARRAY_MAX_ITEMS, ARGUMENT_OBJECT_MAX_PROPERTIES, ARGUMENT_STRING_MAX_CHARS, ARGUMENTS_MAX_DEPTH } from '../../src/tools';
import { expectError } from './helpers';
import { asSession, countRows, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { LOCAL_EXECUTOR, stubRunner, toolApp } from './tools-support';

let owner: Session;
let agentId: string;
let workspaceId: string;

/** A one-tool manifest whose `path` argument carries the given pattern. */
function manifestWith(name: string, pattern: string) {
  return {
    name: 'pattern-tools',
    version: '1.0.0',
    tools: [
      {
        name,
        capabilities: ['exec:spawn:cat', 'fs:read:/workspace/**'],
        inputSchema: { type: 'object', properties: { path: { type: 'string', pattern } }, required: ['path'] },
        run: { argv: ['cat', '{path}'] },
      },
    ],
  };
}

async function auditData(kind: string): Promise<string[]> {
  const rows = await env.DB.prepare('SELECT data FROM audit_events WHERE kind = ? AND workspace_id = ?')
    .bind(kind, workspaceId)
    .all<{ data: string }>();
  return rows.results.map((row) => row.data);
}

beforeAll(async () => {
  ({ workspaceId } = await setupInstance('Arguments'));
  owner = await login(OWNER.email, OWNER.password);
  const res = await asSession(owner, '/api/v1/agents', { method: 'POST', body: { name: 'args-bot', isolation: 'sandbox' } });
  agentId = ((await res.json()) as { id: string }).id;
  // A tool with a safe pattern, installed normally, for the limits and the control case.
  expect(
    (
      await asSession(owner, `/api/v1/agents/${agentId}/tools`, {
        method: 'POST',
        body: { manifest: manifestWith('safe', '^/workspace/[^\\u0000]*$') },
      })
    ).status,
  ).toBe(201);
});

describe('install: patterns that can backtrack catastrophically are refused, by rule and path, nothing stored', () => {
  it.each([
    ['nested quantifiers (the ^(a+)+$ attack)', '^(a+)+$', 5, 'nested-quantifier'],
    ['a quantified alternation with overlap', '^(a|a)*$', 6, 'quantified-alternation'],
    ['a backreference', '^(a)\\1$', 3, 'backreference'],
    ['a lookahead', '^(?=a)a$', 4, 'lookaround'],
    ['overlapping runs', '^a*a*b$', 9, 'overlapping-quantifiers'],
    ['an unanchored run', '[a-z]+x', 8, 'unanchored-quantifier'],
  ])('refuses %s: 400 VALIDATION_ERROR naming the field and the rule, never the pattern', async (_label, pattern, number, rule) => {
    const before = await countRows('installed_tools');
    const refusalsBefore = (await auditData('tool.install.refused')).length;
    const res = await asSession(owner, `/api/v1/agents/${agentId}/tools`, {
      method: 'POST',
      body: { manifest: manifestWith('bad', pattern) },
    });
    const text = await res.clone().text();
    const error = await expectError(res, 400, 'VALIDATION_ERROR');
    expect(error.fields).toEqual(['manifest.tools.0.inputSchema.properties.path.pattern']);
    expect(error.message).toContain(`pattern rule ${number} [${rule}]`);
    expect(text).not.toContain(JSON.stringify(pattern).slice(1, -1));
    expect(await countRows('installed_tools')).toBe(before);
    const refusals = await auditData('tool.install.refused');
    expect(refusals).toHaveLength(refusalsBefore + 1);
    expect(JSON.parse(refusals.at(-1) ?? '{}')).toMatchObject({ agentId, reason: 'schema-unsupported', code: `unsafe-pattern:${rule}` });
  });
});

describe('invoke: a tool stored before the pattern rules existed fails closed', () => {
  it('an unsafe pattern already in D1 is never evaluated: the ^(a+)+$ attack string is refused with 403, nothing stored, nothing run', async () => {
    // Installed "before this change": written straight into D1, bypassing today's install checks.
    const manifest = manifestWith('legacy', '^(a+)+$');
    await env.DB.prepare(
      "INSERT INTO installed_tools (id, workspace_id, agent_id, name, manifest, provenance, source, approval, approval_allowlist, created_at) VALUES ('tool_legacy', ?, ?, 'legacy', ?, 'sha256:legacy', 'inline', 'never', '[]', ?)",
    )
      .bind(workspaceId, agentId, JSON.stringify(manifest), Date.now())
      .run();
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const before = await countRows('tool_invocations');
    // Evaluated by a backtracking engine this takes far longer than the test timeout.
    const res = await call(owner, `/api/v1/agents/${agentId}/tools/legacy/invocations`, {
      method: 'POST',
      body: { arguments: { path: `${'a'.repeat(32)}!` } },
    });
    const error = await expectError(res, 403, 'POLICY_DENIED');
    expect(error.fields).toEqual(['inputSchema.properties.path.pattern']);
    expect(error.message).toContain('reinstall');
    expect(error.message).toContain('pattern rule 5 [nested-quantifier]');
    expect(error.message).not.toContain('(a+)+');
    expect(await countRows('tool_invocations')).toBe(before);
    expect(runner.calls).toEqual([]);
    expect(
      (await auditData('tool.invocation.refused'))
        .map((data) => JSON.parse(data) as { tool: string; reason: string })
        .filter((data) => data.tool === 'legacy'),
    ).toEqual([expect.objectContaining({ reason: 'schema-refused' })]);
  });
});

describe('invoke: oversized arguments are refused before any schema keyword runs', () => {
  const nest = (depth: number): unknown => (depth <= 1 ? 'x' : [nest(depth - 1)]);
  it.each([
    [
      'a string over ARGUMENT_STRING_MAX_CHARS',
      { path: `/workspace/${'a'.repeat(ARGUMENT_STRING_MAX_CHARS)}` },
      'string-length',
      'arguments.path',
    ],
    [
      'an array over ARGUMENT_ARRAY_MAX_ITEMS',
      { path: '/workspace/a', list: new Array(ARGUMENT_ARRAY_MAX_ITEMS + 1).fill(1) },
      'array-items',
      'arguments.list',
    ],
    [
      'an object over ARGUMENT_OBJECT_MAX_PROPERTIES',
      Object.fromEntries([['path', '/workspace/a'], ...Array.from({ length: ARGUMENT_OBJECT_MAX_PROPERTIES }, (_, i) => [`k${i}`, i])]),
      'object-properties',
      'arguments',
    ],
    [
      'nesting over ARGUMENTS_MAX_DEPTH',
      { path: '/workspace/a', deep: nest(ARGUMENTS_MAX_DEPTH) },
      'depth',
      `arguments.deep${'.0'.repeat(ARGUMENTS_MAX_DEPTH - 1)}`,
    ],
    [
      'more than ARGUMENTS_MAX_BYTES in total',
      { path: '/workspace/a', ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`s${i}`, 'a'.repeat(8000)])) },
      'total-bytes',
      'arguments',
    ],
  ])('refuses %s: 400 naming the path and the limit, nothing stored, nothing run', async (_label, args, limit, field) => {
    const runner = stubRunner(() => ({}));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const before = await countRows('tool_invocations');
    const error = await expectError(
      await call(owner, `/api/v1/agents/${agentId}/tools/safe/invocations`, { method: 'POST', body: { arguments: args } }),
      400,
      'VALIDATION_ERROR',
    );
    expect(error.fields).toEqual([field]);
    expect(error.message).toContain(`(${limit})`);
    expect(await countRows('tool_invocations')).toBe(before);
    expect(runner.calls).toEqual([]);
  });

  it('control: within the limits a matching call runs once and a non-matching one is refused by its pattern', async () => {
    const runner = stubRunner(() => ({ stdout: 'ok' }));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const path = `/workspace/${'a'.repeat(ARGUMENT_STRING_MAX_CHARS - 11)}`;
    expect(path.length).toBe(ARGUMENT_STRING_MAX_CHARS);
    const ran = await call(owner, `/api/v1/agents/${agentId}/tools/safe/invocations`, { method: 'POST', body: { arguments: { path } } });
    expect(ran.status).toBe(200);
    expect(runner.calls.map((c) => c.body.argv)).toEqual([['cat', path]]);
    const before = await countRows('tool_invocations');
    const error = await expectError(
      await call(owner, `/api/v1/agents/${agentId}/tools/safe/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/etc/passwd' } },
      }),
      400,
      'VALIDATION_ERROR',
    );
    expect(error.fields).toEqual(['arguments.path']);
    expect(await countRows('tool_invocations')).toBe(before);
    expect(runner.calls).toHaveLength(1);
  });
});
