/// <reference types="vite/client" />
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileManifest } from '../../src/policy';
import githubManifest from '../fixtures/goldens/github/manifest.json';
import githubDocker from '../fixtures/goldens/github/docker.json';
import { expectError, expectSecurityHeaders, postJson as postUnauthenticated, send } from './helpers';
import { createKey, login, OWNER, setupInstance } from './identity-helpers';
import { CAPGATE_SERVERS, GOLDEN_VARIANTS } from '../golden-variants';

const PATH = '/api/v1/policy/compile';

/** capgate's five reference manifests (our equivalents) and their goldens, by file. */
const CAPGATE_FILES = import.meta.glob<unknown>('../fixtures/goldens/capgate-*/*.json', { eager: true, import: 'default' });
const golden = (server: string, file: string) => {
  const value = CAPGATE_FILES[`../fixtures/goldens/${server}/${file}`];
  if (value === undefined) throw new Error(`missing golden ${server}/${file}`);
  return value;
};
let apiKey = '';

beforeAll(async () => {
  await setupInstance();
  apiKey = (await createKey(await login(OWNER.email, OWNER.password), ['agents:read'])).key;
});

/** Compile calls are authenticated with an agents:read key. */
function postJson(path: string, body: unknown) {
  return postUnauthenticated(path, body, { Authorization: `Bearer ${apiKey}` });
}

/** Proof that a refused compile wrote nothing: the audit and token tables stay as they were. */
async function rowCounts(): Promise<number[]> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  ).all<{ name: string }>();
  const counts: number[] = [];
  for (const { name } of tables.results)
    counts.push((await env.DB.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).first<{ n: number }>())?.n ?? 0);
  return counts;
}

describe('POST /api/v1/policy/compile', () => {
  it('needs authentication', async () => {
    await expectError(await postUnauthenticated(PATH, { manifest: githubManifest, target: 'docker' }), 401, 'UNAUTHENTICATED');
  });

  it('returns the same artifact as the CLI / compileManifest (docker golden for github)', async () => {
    const res = await postJson(PATH, { manifest: githubManifest, target: 'docker' });
    expect(res.status).toBe(200);
    expectSecurityHeaders(res);
    expect(await res.json()).toEqual(githubDocker);
  });

  it('compiles one tool with an egress backend', async () => {
    const res = await postJson(PATH, { manifest: githubManifest, target: 'egress', egressTarget: 'nftables', tool: 'search_code' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { scope: unknown; config: string; unenforceable: { capability: string }[] };
    const expected = compileManifest(githubManifest, { target: 'egress', egressTarget: 'nftables', tool: 'search_code' });
    expect(expected.ok && body).toEqual(expected.ok && JSON.parse(JSON.stringify(expected.artifact)));
    expect(body.scope).toEqual({ kind: 'tool', tool: 'search_code' });
    expect(body.unenforceable.map((u) => u.capability)).toContain('net:connect:api.github.com:443');
  });

  it('a private IP literal capability → 400 VALIDATION_ERROR with code and index, never the value; nothing written', async () => {
    const before = await rowCounts();
    const manifest = {
      name: 'evil',
      version: '1',
      tools: [{ name: 't', capabilities: ['exec:spawn:curl', 'net:connect:0x7f000001:8080'] }],
    };
    const error = await expectError(await postJson(PATH, { manifest, target: 'bwrap' }), 400, 'VALIDATION_ERROR');
    expect(error.message).toContain('CAP_NET_PRIVATE');
    expect(error.fields).toEqual(['manifest.tools.0.capabilities.1']);
    expect(JSON.stringify(error)).not.toMatch(/0x7f000001|8080|curl/);
    expect(await rowCounts()).toEqual(before);
  });

  it.each([
    ['bad manifest shape', { manifest: { name: 'x', version: '1', tools: 'nope' }, target: 'bwrap' }, ['manifest.tools']],
    [
      'undeclared run binary',
      { manifest: { name: 'x', version: '1', tools: [{ name: 't', capabilities: [], run: { argv: ['sh', '-c', 'id'] } }] }, target: 'k8s' },
      ['manifest.tools.0.run.argv.0'],
    ],
    ['unknown tool', { manifest: githubManifest, target: 'bwrap', tool: 'nope' }, ['tool']],
    ['unknown target', { manifest: githubManifest, target: 'lxc' }, ['target']],
    ['egressTarget without egress', { manifest: githubManifest, target: 'bwrap', egressTarget: 'squid' }, ['egressTarget']],
    ['missing manifest', { target: 'bwrap' }, ['manifest']],
    ['manifest not an object', { manifest: 'x', target: 'bwrap' }, ['manifest']],
    ['unknown body key', { manifest: githubManifest, target: 'bwrap', operatorAllow: [{ host: '10.0.0.1', port: 443 }] }, ['(root)']],
  ])('%s → 400 VALIDATION_ERROR naming only the field', async (_label, body, fields) => {
    const error = await expectError(await postJson(PATH, body), 400, 'VALIDATION_ERROR');
    expect(error.fields).toEqual(fields);
    expect(JSON.stringify(error)).not.toMatch(/lxc|nope|\bsh\b|10\.0\.0\.1/);
  });

  describe('capgate reference manifests compile over HTTP to the goldens', () => {
    for (const server of CAPGATE_SERVERS) {
      it.each(GOLDEN_VARIANTS)(`${server}: %s`, async (variant, options) => {
        const res = await postJson(PATH, { manifest: golden(server, 'manifest.json'), ...options });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual(golden(server, `${variant}.json`));
      });
    }

    it('a per-tool compile shows what serverCapabilities add to a tool that declares nothing', async () => {
      const res = await postJson(PATH, {
        manifest: golden('capgate-puppeteer', 'manifest.json'),
        target: 'bwrap',
        tool: 'puppeteer_navigate',
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { serverCapabilities: string[] };
      expect(body).toEqual(golden('capgate-puppeteer', 'tool-puppeteer_navigate.bwrap.json'));
      expect(body.serverCapabilities).toContain('ipc:connect:x11');
    });
  });

  it.each([
    [
      'a named endpoint that smuggles a path',
      ['ipc:connect:x11/../../run/docker.sock'],
      'CAP_IPC_PATH',
      'manifest.tools.0.capabilities.0',
      {},
    ],
    [
      'an assertion description with a control character',
      ['assert:a.b:"x\u001b[2Jy"'],
      'CAP_CONTROL_CHAR',
      'manifest.tools.0.capabilities.0',
      {},
    ],
    ['a grammar pin we do not implement', [], 'MANIFEST_GRAMMAR', 'manifest.grammar', { grammar: '01' }],
    [
      'a private host in serverCapabilities',
      [],
      'CAP_NET_PRIVATE',
      'manifest.serverCapabilities.0',
      { serverCapabilities: ['net:connect:169.254.169.254:80'] },
    ],
  ])('%s → 400 VALIDATION_ERROR with code and path, never the value; nothing written', async (_label, capabilities, code, field, extra) => {
    const before = await rowCounts();
    const manifest = { name: 'evil', version: '1', ...extra, tools: [{ name: 't', capabilities }] };
    const error = await expectError(await postJson(PATH, { manifest, target: 'bwrap' }), 400, 'VALIDATION_ERROR');
    expect(error.message).toContain(code);
    expect(error.fields).toEqual([field]);
    expect(JSON.stringify(error)).not.toMatch(/docker\.sock|\\u001b|169\.254|"01"/);
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses a non-JSON content type (415) and answers GET with 405', async () => {
    await expectError(
      await send(PATH, { method: 'POST', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${apiKey}` }, body: '{}' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const res = await send(PATH);
    expect(res.headers.get('Allow')).toBe('POST');
    await expectError(res, 405, 'METHOD_NOT_ALLOWED');
  });

  it('is published in /api/v1/openapi.json', async () => {
    const doc = (await (await send('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain(PATH);
  });
});
