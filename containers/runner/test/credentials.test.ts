/**
 * Credentials are never readable by the tool (docs/sandbox.md "Credential placeholders"),
 * attacked from inside a real sandbox through the normal path: a public name the manifest
 * allows (`echo.test:443`, rule 6), no operator allowance, a placeholder bound to that host,
 * TLS terminated by the per-call CA. The server is a loopback echo API: the test harness's
 * resolver gives echo.test a public address and its `dial` hook (test-only, not runner
 * configuration) maps that address to the loopback server after the proxy has decided.
 * Whatever the tool sends, the real value never shows up in what it receives, returns or
 * writes to /workspace; and it reaches the server only in the bound header.
 */
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretForms } from '../../../src/protocol/index.ts';
import { bwrapPrefix, makeScratch, selfSignedServerCert, startRunner, type TestRunner } from './helpers.ts';

/** Its own sandbox uid (RLIMIT_NPROC is per uid; see SANDBOX_UIDS in helpers.ts). */
const SANDBOX_UID = 61012;
const scratch = makeScratch();
const PLACEHOLDER = 'PORTCULLIS_PLACEHOLDER_7a1c9e0b2d4f6a8c0e1f3a5b7c9d0e2f';
const REAL_SECRET = 'ghp_realEchoSecret0123456789abcdefXYZ';
const ECHO_PUBLIC_ADDRESS = '93.184.215.30';
const caPath = join(scratch.root, 'echo-ca.pem');
const workspace = join(scratch.workspaceRoot, 'agent-cred');
let runner: TestRunner;
let echo: HttpsServer;
let echoPort = 0;
/** Everything the echo server received: where the value may and may not have gone. */
const received: Array<{ url: string; headers: string[]; body: string }> = [];
let stored = '';

beforeAll(async () => {
  const keyPath = join(scratch.root, 'echo-key.pem');
  selfSignedServerCert(keyPath, caPath, 'echo.test', 'DNS:echo.test');
  chmodSync(caPath, 0o644);
  echo = createHttpsServer({ key: readFileSync(keyPath), cert: readFileSync(caPath) }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('latin1')));
    req.on('end', () => {
      const seen = { url: req.url ?? '', headers: req.rawHeaders, body };
      received.push(seen);
      // An echo API, a base64 echo, and a store-then-read-back (a comment, a chat message).
      if (req.url === '/store') stored = req.headers.authorization ?? '';
      const text = req.url === '/stored' ? stored : JSON.stringify(seen);
      res.setHeader('x-echo', req.headers.authorization ?? '');
      res.end(req.url?.startsWith('/b64') ? Buffer.from(text).toString('base64') : text);
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
  runner = await startRunner({
    workDir: scratch.workDir,
    workspaceRoot: scratch.workspaceRoot,
    uid: SANDBOX_UID,
    resolve: async (host) => (host === 'echo.test' ? [ECHO_PUBLIC_ADDRESS] : []),
    dial: (address, port) =>
      address === ECHO_PUBLIC_ADDRESS && port === 443 ? { host: '127.0.0.1', port: echoPort } : { host: address, port },
    upstreamCa: [readFileSync(caPath, 'utf8')],
  });
});

afterAll(async () => {
  await runner.close();
  echo.close();
  scratch.cleanup();
});

/** Runs `script` under sh in the sandbox with TOKEN = the placeholder; output also lands in /workspace/out. */
async function tool(script: string, header?: string) {
  rmSync(join(workspace, 'out'), { force: true });
  const { status, json } = await runner.post({
    tool: 'fetch',
    argv: ['sh', '-c', `{ ${script} ; } > /workspace/out 2>&1; rc=$?; cat /workspace/out; exit $rc`],
    env: { TOKEN: PLACEHOLDER },
    timeoutMs: 20_000,
    outputLimitBytes: 262_144,
    sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'rw' }) },
    egress: { allow: [{ host: 'echo.test', port: 443 }] },
    placeholders: [{ placeholder: PLACEHOLDER, value: REAL_SECRET, hosts: ['echo.test'], ...(header ? { header } : {}) }],
  });
  expect(status).toBe(200);
  const written = existsSync(join(workspace, 'out')) ? readFileSync(join(workspace, 'out'), 'latin1') : '';
  return { json, seenByTool: `${json.stdout ?? ''}${json.stderr ?? ''}${written}` };
}

const CURL = 'curl -sS --max-time 10';

function expectNoForm(text: string): void {
  for (const form of secretForms(REAL_SECRET)) expect(text).not.toContain(form);
}

describe('credentials are never readable by the tool', { timeout: 60_000 }, () => {
  it('the normal path works: manifest rule, placeholder swapped in Authorization, the echoed value scrubbed', async () => {
    const before = received.length;
    const { json, seenByTool } = await tool(`${CURL} -H "Authorization: Bearer $TOKEN" https://echo.test/echo`);
    expect(json.exitCode).toBe(0);
    expect(json.egressEvents).toEqual([
      { type: 'egress.decision', via: 'connect', host: 'echo.test', port: 443, allow: true, rule: 6, reason: 'allowlisted' },
      { type: 'egress.placeholder_swapped', host: 'echo.test', port: 443 },
    ]);
    const got = received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]?.headers).toEqual(expect.arrayContaining(['authorization', `Bearer ${REAL_SECRET}`, 'host', 'echo.test']));
    // The echo reached the tool, minus the value.
    expect(seenByTool).toContain('[REDACTED]');
    expectNoForm(seenByTool);
  });

  it.each([
    ['the base64 of everything it received', `${CURL} -H "Authorization: Bearer $TOKEN" https://echo.test/b64`],
    ['Basic credentials (curl -u) echoed back', `${CURL} -u "bot:$TOKEN" https://echo.test/echo`],
    [
      'a value stored by one request and read back by the next',
      `${CURL} -H "Authorization: Bearer $TOKEN" https://echo.test/store; ${CURL} https://echo.test/stored`,
    ],
  ])('a bound host that sends the value back (%s) hands the tool no form of it', async (_label, script) => {
    const before = received.length;
    const { json, seenByTool } = await tool(script);
    expect(json.exitCode).toBe(0);
    expect(received.length).toBeGreaterThan(before);
    expectNoForm(seenByTool);
  });

  it.each([
    ['in the URL', `${CURL} "https://echo.test/echo?token=$TOKEN"`],
    ['in the body', `${CURL} --data "token=$TOKEN" https://echo.test/echo`],
    ['in a header other than the bound one', `${CURL} -H "X-Api-Key: $TOKEN" https://echo.test/echo`],
    ['base64-encoded by the tool', `${CURL} -H "Authorization: Bearer $(printf %s "$TOKEN" | base64 -w0)" https://echo.test/echo`],
    ['URL-encoded by the tool', `${CURL} -H "Authorization: Bearer %50\${TOKEN#P}" "https://echo.test/echo?t=%50\${TOKEN#P}"`],
    [
      'split across two headers',
      `A=$(printf %s "$TOKEN" | cut -c1-20); B=$(printf %s "$TOKEN" | cut -c21-); ${CURL} -H "Authorization: Bearer $A" -H "X-Rest: $B" https://echo.test/echo`,
    ],
  ])('a placeholder %s is never replaced: the value reaches neither the server nor the tool', async (_label, script) => {
    const before = received.length;
    const { json, seenByTool } = await tool(script);
    expect(json.exitCode).toBe(0);
    const got = received.slice(before);
    expect(got).toHaveLength(1);
    expectNoForm(JSON.stringify(got));
    expectNoForm(seenByTool);
    expect(json.egressEvents?.map((e) => e.type)).toEqual(['egress.decision']);
  });

  it('a binding that names its header gets the value there and only there (Authorization keeps the placeholder)', async () => {
    const before = received.length;
    const { json, seenByTool } = await tool(
      `${CURL} -H "X-Api-Key: $TOKEN" -H "Authorization: Bearer $TOKEN" https://echo.test/echo`,
      'X-Api-Key',
    );
    expect(json.exitCode).toBe(0);
    const headers = received.slice(before)[0]?.headers ?? [];
    expect(headers[headers.indexOf('x-api-key') + 1]).toBe(REAL_SECRET);
    expect(headers[headers.indexOf('authorization') + 1]).toBe(`Bearer ${PLACEHOLDER}`);
    expectNoForm(seenByTool);
  });

  it('a request naming another virtual host inside the tunnel (Host header) is refused, nothing reaches the server', async () => {
    const before = received.length;
    const { json, seenByTool } = await tool(`${CURL} -f -H "Host: intranet.test" -H "Authorization: Bearer $TOKEN" https://echo.test/echo`);
    expect(json.exitCode).not.toBe(0);
    expect(seenByTool).toContain('421');
    expect(received.length).toBe(before);
    expect(json.egressEvents).toContainEqual({ type: 'egress.host_mismatch', host: 'echo.test', port: 443 });
  });
});
