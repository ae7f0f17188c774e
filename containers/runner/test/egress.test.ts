/**
 * Egress through the local proxy, from inside the sandbox, against local test servers.
 * Name resolution is injected (like time): the proxy still decides on what the names resolve
 * to. The loopback test servers here are private destinations: operator configuration (never
 * the request) opens them, and only for a call whose own allowlist names them exactly.
 * credentials.test.ts covers the normal path (a public name, a manifest rule, no allowance).
 */
import { chmodSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_UIDS, bwrapPrefix, makeScratch, selfSignedServerCert, startRunner, type TestRunner } from './helpers.ts';

const SANDBOX_UID = SANDBOX_UIDS.egress;
const scratch = makeScratch();
const PLACEHOLDER = 'pcph_5b0d0b7f3c9e4a1d8e2f6a7b9c0d1e2f';
const REAL_SECRET = 'real-credential-value-never-in-sandbox';
let runner: TestRunner;
let https: HttpsServer;
let http: HttpServer;
let httpsPort = 0;
let httpPort = 0;
const httpsSeen: string[] = [];
const httpsAuthorization: string[] = [];
const httpSeen: Array<{ host: string; authorization: string; body: string }> = [];
const caPath = join(scratch.root, 'test-ca.pem');

const FAKE_DNS: Record<string, string[]> = {
  'allowed.test': ['127.0.0.1'],
  'other.test': ['127.0.0.1'],
  'internal.test': ['10.20.30.40'],
  'public.test': ['93.184.215.14'],
  'unlisted.test': ['93.184.215.15'],
  'plain.test': ['127.0.0.1'],
  'elsewhere.test': ['127.0.0.1'],
  'tls-elsewhere.test': ['127.0.0.1'],
};

beforeAll(async () => {
  const keyPath = join(scratch.root, 'test-key.pem');
  selfSignedServerCert(
    keyPath,
    caPath,
    'allowed.test',
    'DNS:allowed.test,DNS:other.test,DNS:tls-elsewhere.test,DNS:internal.test,DNS:public.test,IP:127.0.0.1',
  );
  chmodSync(caPath, 0o644);
  https = createHttpsServer({ key: readFileSync(keyPath), cert: readFileSync(caPath) }, (req, res) => {
    httpsSeen.push(req.headers.host ?? '');
    httpsAuthorization.push(req.headers.authorization ?? '');
    res.end(`hello over tls from ${req.headers.host}`);
  });
  http = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      httpSeen.push({ host: req.headers.host ?? '', authorization: req.headers.authorization ?? '', body });
      res.end('plain ok');
    });
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpsPort = (https.address() as AddressInfo).port;
  httpPort = (http.address() as AddressInfo).port;
  runner = await startRunner({
    workDir: scratch.workDir,
    workspaceRoot: scratch.workspaceRoot,
    uid: SANDBOX_UID,
    resolve: async (host) => FAKE_DNS[host] ?? [],
    // Operator configuration: the only way a private destination opens.
    operatorAllow: [
      { host: 'allowed.test', port: httpsPort },
      { host: 'tls-elsewhere.test', port: httpsPort },
      { host: 'plain.test', port: httpPort },
      { host: 'elsewhere.test', port: httpPort },
    ],
    // Operator configuration: the local test server's self-signed certificate is trusted upstream.
    upstreamCa: [readFileSync(caPath, 'utf8')],
  });
});

afterAll(async () => {
  await runner.close();
  https.close();
  http.close();
  scratch.cleanup();
});

/** What the tool declares: the operator-opened test servers by name, plus two hosts to be refused. */
function declared() {
  return [
    { host: 'allowed.test', port: httpsPort },
    { host: 'tls-elsewhere.test', port: httpsPort },
    { host: 'plain.test', port: httpPort },
    { host: 'elsewhere.test', port: httpPort },
    { host: 'internal.test', port: httpsPort },
    { host: 'public.test', port: 443 },
  ];
}

function curl(args: string[], extra: Record<string, unknown> = {}, trust: 'test-ca' | 'sandbox-default' = 'test-ca') {
  const workspace = join(scratch.workspaceRoot, 'agent-net');
  return runner.post({
    tool: 'fetch',
    argv: ['curl', '-sS', '--max-time', '5', ...(trust === 'test-ca' ? ['--cacert', '/run/test-ca.pem'] : []), ...args],
    env: {},
    timeoutMs: 15_000,
    outputLimitBytes: 65_536,
    sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'rw', roBinds: [[caPath, '/run/test-ca.pem']] }) },
    egress: { allow: declared() },
    ...extra,
  });
}

describe('egress through the local proxy', { timeout: 30_000 }, () => {
  it('reaches an allowlisted HTTPS server through CONNECT, and the decision is audited by host only', async () => {
    const { json } = await curl([`https://allowed.test:${httpsPort}/path?q=payload-not-audited`]);
    expect(json.exitCode).toBe(0);
    expect(json.stdout).toBe(`hello over tls from allowed.test:${httpsPort}`);
    expect(json.egressEvents).toEqual([
      { type: 'egress.decision', via: 'connect', host: 'allowed.test', port: httpsPort, allow: true, rule: 2, reason: 'operator-allow' },
    ]);
    expect(JSON.stringify(runner.audit)).not.toContain('payload-not-audited');
  });

  it('an operator allowance does not open its destination to a tool that does not declare it', async () => {
    const before = httpsSeen.length;
    const { json } = await curl([`https://allowed.test:${httpsPort}/`], {
      egress: {
        allow: [
          { host: 'public.test', port: 443 },
          { host: '*', port: httpsPort },
        ],
      },
    });
    expect(json.exitCode).not.toBe(0);
    expect(json.stdout).toBe('');
    expect(json.egressEvents).toEqual([
      { type: 'egress.decision', via: 'connect', host: 'allowed.test', port: httpsPort, allow: false, rule: 4, reason: 'resolves-private' },
    ]);
    expect(httpsSeen.length).toBe(before);
  });

  it.each([
    // 'tls' = the local HTTPS server's port, known only once it listens.
    ['a host on no list that resolves to a private address', 'other.test', 'tls', 4, 'resolves-private'],
    ['a host allowlisted by the manifest that resolves privately', 'internal.test', 'tls', 4, 'resolves-private'],
    ['a private IP literal', '127.0.0.1', 'tls', 3, 'ip-literal-private'],
    ['a public host not on the allowlist', 'unlisted.test', 443, 8, 'not-allowlisted'],
    ['an allowlisted host on an undeclared port', 'public.test', 444, 7, 'port-not-allowed'],
  ] as const)('refuses %s and never connects', async (_name, host, portOrTls, rule, reason) => {
    const port = portOrTls === 'tls' ? httpsPort : portOrTls;
    const before = httpsSeen.length;
    const { json } = await curl([`https://${host}:${port}/`]);
    expect(json.exitCode).not.toBe(0);
    expect(json.stdout).toBe('');
    expect(json.egressEvents).toEqual([{ type: 'egress.decision', via: 'connect', host, port, allow: false, rule, reason }]);
    expect(httpsSeen.length).toBe(before);
  });

  it('a direct connection that ignores the proxy variables still fails', async () => {
    const before = httpsSeen.length;
    const { json } = await curl([
      '--noproxy',
      '*',
      '--resolve',
      `allowed.test:${httpsPort}:127.0.0.1`,
      `https://allowed.test:${httpsPort}/`,
    ]);
    expect(json.exitCode).not.toBe(0);
    expect(json.egressEvents).toEqual([]);
    expect(httpsSeen.length).toBe(before);
  });

  it('swaps a placeholder for the real credential only in Authorization, only for its bound host (plain HTTP); the body keeps the placeholder', async () => {
    const before = httpSeen.length;
    const { json } = await curl(
      ['-H', `Authorization: Bearer ${PLACEHOLDER}`, '--data', `token=${PLACEHOLDER}`, `http://plain.test:${httpPort}/api`],
      {
        placeholders: [{ placeholder: PLACEHOLDER, value: REAL_SECRET, hosts: ['plain.test'] }],
      },
    );
    expect(json.exitCode).toBe(0);
    expect(json.stdout).toBe('plain ok');
    expect(httpSeen.slice(before)).toEqual([
      { host: `plain.test:${httpPort}`, authorization: `Bearer ${REAL_SECRET}`, body: `token=${PLACEHOLDER}` },
    ]);
    expect(json.egressEvents?.map((e) => e.type)).toEqual(['egress.decision', 'egress.placeholder_swapped']);
    expect(`${json.stdout}${json.stderr}`).not.toContain(REAL_SECRET);
  });

  it('swaps a placeholder inside Basic credentials (curl -u) for its bound host', async () => {
    const before = httpSeen.length;
    const { json } = await curl(['-u', `bot:${PLACEHOLDER}`, `http://plain.test:${httpPort}/api`], {
      placeholders: [{ placeholder: PLACEHOLDER, value: REAL_SECRET, hosts: ['plain.test'] }],
    });
    expect(json.exitCode).toBe(0);
    expect(httpSeen.slice(before).map((r) => r.authorization)).toEqual([`Basic ${Buffer.from(`bot:${REAL_SECRET}`).toString('base64')}`]);
  });

  it.each([
    ['inside Basic credentials', ['-u', `bot:${PLACEHOLDER}`]],
    ['in a header', ['-H', `X-Api-Key: ${PLACEHOLDER}`]],
    ['in the body', ['--data', `k=${PLACEHOLDER}`]],
    ['in the query', []],
  ])('refuses a placeholder sent %s to a host it is not bound to, and nothing reaches that host', async (name, args) => {
    const before = httpSeen.length;
    const query = name === 'in the query' ? `?k=${PLACEHOLDER}` : '';
    const { json } = await curl(['-f', ...args, `http://elsewhere.test:${httpPort}/api${query}`], {
      placeholders: [{ placeholder: PLACEHOLDER, value: REAL_SECRET, hosts: ['plain.test'] }],
    });
    expect(json.exitCode).not.toBe(0);
    expect(json.stderr).toContain('403');
    expect(json.egressEvents).toContainEqual({ type: 'egress.placeholder_refused', host: 'elsewhere.test', port: httpPort });
    expect(httpSeen.length).toBe(before);
  });

  it('over HTTPS, terminates TLS with a per-call CA and swaps the placeholder only for its bound host', async () => {
    const before = httpsAuthorization.length;
    const { json } = await curl(
      ['-f', '-H', `Authorization: Bearer ${PLACEHOLDER}`, `https://allowed.test:${httpsPort}/api`],
      {
        placeholders: [{ placeholder: PLACEHOLDER, value: REAL_SECRET, hosts: ['allowed.test'] }],
      },
      'sandbox-default',
    );
    expect(json.stderr).toBe('');
    expect(json.exitCode).toBe(0);
    expect(json.stdout).toBe(`hello over tls from allowed.test:${httpsPort}`);
    expect(httpsAuthorization.slice(before)).toEqual([`Bearer ${REAL_SECRET}`]);
    expect(json.egressEvents?.map((e) => e.type)).toEqual(['egress.decision', 'egress.placeholder_swapped']);
  });

  it('over HTTPS, refuses a placeholder sent to an allowed host it is not bound to, and nothing reaches it', async () => {
    const before = httpsSeen.length;
    const { json } = await curl(
      ['-f', '-H', `Authorization: Bearer ${PLACEHOLDER}`, `https://tls-elsewhere.test:${httpsPort}/api`],
      {
        placeholders: [{ placeholder: PLACEHOLDER, value: REAL_SECRET, hosts: ['allowed.test'] }],
      },
      'sandbox-default',
    );
    expect(json.exitCode).not.toBe(0);
    expect(json.stderr).toContain('403');
    expect(json.egressEvents).toContainEqual({ type: 'egress.placeholder_refused', host: 'tls-elsewhere.test', port: httpsPort });
    expect(httpsSeen.length).toBe(before);
  });

  it('without placeholders no interception CA exists: no trust variable, no CA file, the tunnel stays end-to-end', async () => {
    const workspace = join(scratch.workspaceRoot, 'agent-net');
    const { json } = await runner.post({
      tool: 'env',
      argv: ['sh', '-c', 'env; ls /run/portcullis'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'rw' }) },
      egress: { allow: [] },
    });
    expect(json.exitCode).toBe(0);
    expect(json.stdout).toContain('HTTPS_PROXY=http://127.0.0.1:3128');
    expect(json.stdout).not.toMatch(/SSL_CERT_FILE|CURL_CA_BUNDLE|NODE_EXTRA_CA_CERTS|ca\.pem/);
  });

  it('with placeholders the sandbox gets the CA certificate but never its key', async () => {
    const workspace = join(scratch.workspaceRoot, 'agent-net');
    const { json } = await runner.post({
      tool: 'env',
      argv: ['sh', '-c', 'ls /run/portcullis; echo "$SSL_CERT_FILE"; grep -c "PRIVATE KEY" /run/portcullis/ca.pem'],
      env: {},
      timeoutMs: 10_000,
      outputLimitBytes: 65_536,
      sandbox: { bwrapArgv: bwrapPrefix({ workspace, workspaceMode: 'rw' }) },
      egress: { allow: [] },
      placeholders: [{ placeholder: PLACEHOLDER, value: REAL_SECRET, hosts: ['allowed.test'] }],
    });
    expect(json.stdout).toBe('ca.pem\negress.sock\nlauncher.mjs\n/run/portcullis/ca.pem\n0\n');
  });

  it('refuses operatorAllow smuggled in the request: private destinations open only by configuration', async () => {
    const { status, json } = await curl([`https://other.test:${httpsPort}/`], {
      egress: { allow: [], operatorAllow: [{ host: 'other.test', port: httpsPort }] },
    });
    expect(status).toBe(400);
    expect(json.error?.code).toBe('VALIDATION_ERROR');
  });
});
