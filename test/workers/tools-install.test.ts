import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, postJson, send } from './helpers';
import { asSession, countRows, login, OWNER, setupInstance, type Session } from './identity-helpers';
import { TEST_MANIFEST, toolApp } from './tools-support';
import capgateFetch from '../fixtures/goldens/capgate-fetch/manifest.json';
import capgateFetchBwrap from '../fixtures/goldens/capgate-fetch/bwrap.json';
import capgateFilesystem from '../fixtures/goldens/capgate-filesystem/manifest.json';
import capgateFilesystemBwrap from '../fixtures/goldens/capgate-filesystem/bwrap.json';
import capgateGithub from '../fixtures/goldens/capgate-github/manifest.json';
import capgateGithubBwrap from '../fixtures/goldens/capgate-github/bwrap.json';
import capgatePuppeteer from '../fixtures/goldens/capgate-puppeteer/manifest.json';
import capgatePuppeteerBwrap from '../fixtures/goldens/capgate-puppeteer/bwrap.json';
import capgateTime from '../fixtures/goldens/capgate-time/manifest.json';
import capgateTimeBwrap from '../fixtures/goldens/capgate-time/bwrap.json';

let ownerA: Session;
let ownerB: Session;
let agentA: string;

beforeAll(async () => {
  await setupInstance('Workspace A');
  ownerA = await login(OWNER.email, OWNER.password);
  const res = await asSession(ownerA, '/api/v1/workspaces', {
    method: 'POST',
    body: { name: 'Workspace B', ownerEmail: 'owner-b@example.com' },
  });
  const { inviteToken } = (await res.json()) as { inviteToken: string };
  expect((await postJson('/api/v1/auth/accept-invite', { token: inviteToken, password: 'owner b passphrase long' })).status).toBe(204);
  ownerB = await login('owner-b@example.com', 'owner b passphrase long');
  agentA = ((await (await asSession(ownerA, '/api/v1/agents', { method: 'POST', body: { name: 'a-bot' } })).json()) as { id: string }).id;
});

interface ToolList {
  tools: Array<{
    name: string;
    provenance: string;
    source: string;
    approval: string;
    approvalAllowlist: unknown[];
    manifest: { name: string; version: string };
  }>;
}

describe('tool installation', () => {
  it('installs an inline manifest as one row per tool with provenance, source and approval settings', async () => {
    const res = await asSession(ownerA, `/api/v1/agents/${agentA}/tools`, {
      method: 'POST',
      body: { manifest: TEST_MANIFEST, tools: { cat: { approval: 'on-miss', approvalAllowlist: [{ path: '/workspace/*' }] } } },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as ToolList;
    expect(body.tools.map((t) => t.name)).toEqual(['cat', 'gh']);
    for (const tool of body.tools) {
      expect(tool.provenance).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(tool.source).toBe('inline');
      expect(tool.manifest).toEqual({ name: 'test-tools', version: '1.0.0' });
    }
    expect(body.tools[0]).toMatchObject({ approval: 'on-miss', approvalAllowlist: [{ path: '/workspace/*' }] });
    expect(body.tools[1]).toMatchObject({ approval: 'never', approvalAllowlist: [] });
    const listed = (await (await asSession(ownerA, `/api/v1/agents/${agentA}/tools`)).json()) as ToolList;
    expect(listed.tools.map((t) => t.name)).toEqual(['cat', 'gh']);
    const audit = await (await asSession(ownerA, '/api/v1/audit?kind=tool.installed')).text();
    expect(audit).toContain('tool.installed');
  });

  it('refuses a second install of a tool name already on the agent (409, nothing written)', async () => {
    const before = await countRows('installed_tools');
    await expectError(
      await asSession(ownerA, `/api/v1/agents/${agentA}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST } }),
      409,
      'CONFLICT',
    );
    expect(await countRows('installed_tools')).toBe(before);
  });

  it.each([
    ['a short loopback', 'https://127.1/manifest.json'],
    ['a hex loopback', 'https://0x7f000001/manifest.json'],
    ['a decimal loopback', 'https://2130706433/manifest.json'],
    ['IPv6 loopback', 'https://[::1]/manifest.json'],
    ['an IPv4-mapped loopback', 'https://[::ffff:7f00:1]/manifest.json'],
    ['userinfo in front of a private address', 'https://api.example.com@127.0.0.1/manifest.json'],
    ['plain http', 'http://example.com/manifest.json'],
    ['a metadata address', 'https://169.254.169.254/latest/meta-data'],
  ])('refuses a manifest URL with %s: 400 URL_NOT_ALLOWED, no connection, nothing written', async (_label, url) => {
    const fetched: string[] = [];
    const call = toolApp({
      fetch: (async (input: RequestInfo | URL) => {
        fetched.push(String(input));
        return new Response('{}');
      }) as typeof fetch,
    });
    const before = await countRows('installed_tools');
    await expectError(await call(ownerA, `/api/v1/agents/${agentA}/tools`, { method: 'POST', body: { url } }), 400, 'URL_NOT_ALLOWED');
    expect(fetched).toEqual([]);
    expect(await countRows('installed_tools')).toBe(before);
  });

  it('installs from a URL whose host resolves publicly, recording the URL as source', async () => {
    const manifest = { ...TEST_MANIFEST, name: 'remote-tools', tools: [{ ...TEST_MANIFEST.tools[0], name: 'remote-cat' }] };
    const fake = (async (input: RequestInfo | URL) => {
      const url = new URL(String(input));
      if (url.hostname === 'cloudflare-dns.com')
        return Response.json(
          {
            Status: 0,
            Answer: [
              {
                type: url.searchParams.get('type') === 'AAAA' ? 28 : 1,
                data: url.searchParams.get('type') === 'AAAA' ? '2606:4700::1' : '203.0.114.7',
              },
            ],
          },
          { headers: { 'content-type': 'application/dns-json' } },
        );
      if (url.href === 'https://tools.example.com/m.json') return Response.json(manifest);
      return new Response('unexpected', { status: 599 });
    }) as typeof fetch;
    const res = await toolApp({ fetch: fake })(ownerA, `/api/v1/agents/${agentA}/tools`, {
      method: 'POST',
      body: { url: 'https://tools.example.com/m.json' },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as ToolList).tools[0]).toMatchObject({ name: 'remote-cat', source: 'https://tools.example.com/m.json' });
  });

  it.each([
    [
      'an unknown capability kind',
      { ...TEST_MANIFEST, tools: [{ ...TEST_MANIFEST.tools[0], name: 'x1', capabilities: ['exec:spawn:cat', 'teleport:now:/'] }] },
      'CAP_UNKNOWN_KIND',
      'manifest.tools.0.capabilities.1',
    ],
    [
      'a private host',
      {
        ...TEST_MANIFEST,
        tools: [{ ...TEST_MANIFEST.tools[0], name: 'x2', capabilities: ['exec:spawn:cat', 'net:connect:10.0.0.1:443'] }],
      },
      null,
      'manifest.tools.0.capabilities.1',
    ],
    [
      'an undeclared binary',
      { ...TEST_MANIFEST, tools: [{ ...TEST_MANIFEST.tools[0], name: 'x3', capabilities: [] }] },
      'MANIFEST_RUN_UNDECLARED_EXEC',
      'manifest.tools.0.run.argv.0',
    ],
  ])(
    'refuses a manifest with %s: 400 VALIDATION_ERROR naming the code and index, nothing written',
    async (_label, manifest, code, field) => {
      const before = await countRows('installed_tools');
      const error = await expectError(
        await asSession(ownerA, `/api/v1/agents/${agentA}/tools`, { method: 'POST', body: { manifest } }),
        400,
        'VALIDATION_ERROR',
      );
      if (code) expect(error.message).toContain(code);
      expect(error.fields).toEqual([field]);
      expect(await countRows('installed_tools')).toBe(before);
    },
  );

  it('refuses, for a container agent, a destination on a port Cloudflare does not intercept (only 80 and 443): 400, audited, nothing written', async () => {
    const agent = (
      (await (
        await asSession(ownerA, '/api/v1/agents', { method: 'POST', body: { name: 'container-ports', isolation: 'container' } })
      ).json()) as { id: string }
    ).id;
    const manifest = (port: number, name: string) => ({
      ...TEST_MANIFEST,
      tools: [{ ...TEST_MANIFEST.tools[0], name, capabilities: ['exec:spawn:cat', `net:connect:api.example.com:${port}`] }],
    });
    const before = await countRows('installed_tools');
    for (const port of [22, 8443, 5432]) {
      const error = await expectError(
        await asSession(ownerA, `/api/v1/agents/${agent}/tools`, { method: 'POST', body: { manifest: manifest(port, `p${port}`) } }),
        400,
        'VALIDATION_ERROR',
      );
      expect(error.fields).toEqual(['manifest.tools']);
    }
    expect(await countRows('installed_tools')).toBe(before);
    const refusals =
      (await (await asSession(ownerA, '/api/v1/audit?kind=tool.install.refused')).text()).split('PORT_NOT_INTERCEPTED').length - 1;
    expect(refusals).toBe(3);
    // 443 installs; a sandbox agent (local executor, its own proxy) may still declare 8443.
    const ok443 = await asSession(ownerA, `/api/v1/agents/${agent}/tools`, { method: 'POST', body: { manifest: manifest(443, 'p443') } });
    expect(ok443.status, await ok443.clone().text()).toBe(201);
    const sandboxAgent = (
      (await (
        await asSession(ownerA, '/api/v1/agents', { method: 'POST', body: { name: 'sandbox-ports', isolation: 'sandbox' } })
      ).json()) as { id: string }
    ).id;
    const sandbox8443 = await asSession(ownerA, `/api/v1/agents/${sandboxAgent}/tools`, {
      method: 'POST',
      body: { manifest: manifest(8443, 'sandbox8443') },
    });
    expect(sandbox8443.status, await sandbox8443.clone().text()).toBe(201);
  });

  it.each([
    ['fetch', capgateFetch, capgateFetchBwrap],
    ['filesystem', capgateFilesystem, capgateFilesystemBwrap],
    ['github', capgateGithub, capgateGithubBwrap],
    ['puppeteer', capgatePuppeteer, capgatePuppeteerBwrap],
    ['time', capgateTime, capgateTimeBwrap],
  ])("installs capgate's %s reference manifest: one row per tool, with the provenance of its golden", async (_label, manifest, golden) => {
    const agent = (
      (await (await asSession(ownerA, '/api/v1/agents', { method: 'POST', body: { name: `capgate-${_label}` } })).json()) as { id: string }
    ).id;
    const res = await asSession(ownerA, `/api/v1/agents/${agent}/tools`, { method: 'POST', body: { manifest } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as ToolList;
    expect(body.tools.map((t) => t.name).sort()).toEqual(manifest.tools.map((t) => t.name).sort());
    for (const tool of body.tools) expect(tool.provenance).toBe(golden.provenance);
  });

  it.each([
    ['a grammar pin with a trailing space', { ...capgateTime, grammar: '1.0 ' }, 'MANIFEST_GRAMMAR', 'manifest.grammar'],
    [
      'a named endpoint that smuggles a path',
      { ...capgatePuppeteer, serverCapabilities: ['ipc:connect:x11/../../etc'] },
      'CAP_IPC_PATH',
      'manifest.serverCapabilities.0',
    ],
    [
      'a misspelt capabilities key',
      { name: 'typo', version: '1', tools: [{ name: 'typo', capabilities: [], capabilites: ['fs:write:/etc/**'] }] },
      'MANIFEST_SHAPE',
      'manifest.tools.0.capabilites',
    ],
  ])(
    'refuses a capgate manifest with %s: 400 naming code and path, nothing written, the refusal audited',
    async (_label, manifest, code, field) => {
      const before = await countRows('installed_tools');
      const auditBefore = await countRows('audit_events');
      const error = await expectError(
        await asSession(ownerA, `/api/v1/agents/${agentA}/tools`, { method: 'POST', body: { manifest } }),
        400,
        'VALIDATION_ERROR',
      );
      expect(error.message).toContain(code);
      expect(error.fields).toEqual([field]);
      expect(await countRows('installed_tools')).toBe(before);
      expect(await countRows('audit_events')).toBe(auditBefore + 1);
    },
  );

  it('refuses an inputSchema keyword it would not enforce (fail closed), nothing written', async () => {
    const manifest = {
      ...TEST_MANIFEST,
      tools: [
        { ...TEST_MANIFEST.tools[0], name: 'x4', inputSchema: { type: 'object', properties: { path: { type: 'string', format: 'uri' } } } },
      ],
    };
    const before = await countRows('installed_tools');
    const error = await expectError(
      await asSession(ownerA, `/api/v1/agents/${agentA}/tools`, { method: 'POST', body: { manifest } }),
      400,
      'VALIDATION_ERROR',
    );
    expect(error.fields).toEqual(['manifest.tools.0.inputSchema.properties.path.format']);
    expect(await countRows('installed_tools')).toBe(before);
  });

  it('another workspace’s agent answers 404 for list, install and remove, and nothing changes', async () => {
    const before = await countRows('installed_tools');
    await expectError(await asSession(ownerB, `/api/v1/agents/${agentA}/tools`), 404, 'NOT_FOUND');
    await expectError(
      await asSession(ownerB, `/api/v1/agents/${agentA}/tools`, {
        method: 'POST',
        body: { manifest: { ...TEST_MANIFEST, name: 'other' } },
      }),
      404,
      'NOT_FOUND',
    );
    await expectError(await asSession(ownerB, `/api/v1/agents/${agentA}/tools/cat`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    expect(await countRows('installed_tools')).toBe(before);
  });

  it('removes a tool; it then answers 404 like one never installed', async () => {
    expect((await asSession(ownerA, `/api/v1/agents/${agentA}/tools/remote-cat`, { method: 'DELETE' })).status).toBe(204);
    await expectError(await asSession(ownerA, `/api/v1/agents/${agentA}/tools/remote-cat`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    await expectError(
      await asSession(ownerA, `/api/v1/agents/${agentA}/tools/remote-cat/invocations`, {
        method: 'POST',
        body: { arguments: { path: '/workspace/a' } },
      }),
      404,
      'NOT_FOUND',
    );
  });
});

describe('OpenAPI', () => {
  it('publishes the tools, invocations and approvals routes from their zod schemas', async () => {
    const doc = (await (await send('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(doc.paths['/api/v1/agents/{id}/tools'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/v1/agents/{id}/tools/{name}'] ?? {})).toEqual(['delete']);
    expect(Object.keys(doc.paths['/api/v1/agents/{id}/tools/{name}/invocations'] ?? {})).toEqual(['post']);
    expect(Object.keys(doc.paths['/api/v1/invocations/{id}'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/v1/approvals'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/v1/approvals/{id}'] ?? {})).toEqual(['post']);
    for (const name of [
      'InstallToolsRequest',
      'InstalledTool',
      'InvokeToolRequest',
      'ToolInvocationResult',
      'Approval',
      'DecideApprovalRequest',
    ])
      expect(doc.components.schemas).toHaveProperty(name);
  });
});
