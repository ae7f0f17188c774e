/**
 * The image's egress as production shapes it. The container has no network of its own
 * (`--network none`: a loopback only). In production every HTTPS request it makes is
 * intercepted by Cloudflare (`interceptHttps`), which terminates TLS with the CA whose
 * certificate it places at /etc/cloudflare/certs/cloudflare-containers-ca.crt and hands the
 * request to ToolSandbox's outbound handler. Here the stand-in for that path is the runner's
 * own egress proxy (the same `decideEgress` the outbound handler calls) on the host, reached
 * over a unix socket mounted into the container, terminating TLS with a stand-in CA mounted at
 * Cloudflare's path. Not covered here (no Cloudflare runtime): the platform's interception
 * itself and the hand-off to `toolEgressHandler` (test/workers/tools-outbound.test.ts calls the
 * handler directly).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressProxy, type EgressAuditEvent } from '../../src/proxy.ts';
import { createInterceptCa } from '../../src/tls-intercept.ts';
import { selfSignedServerCert } from '../helpers.ts';
import { call, requireImage, startImage, type RunningImage } from './harness.ts';

const ALLOWED = 'api.allowed.test';
/** A public address for the allowed name (injected resolver); dialled as the loopback server. */
const ALLOWED_ADDRESS = '93.184.215.40';
const OTHER = 'other.test';
const OTHER_ADDRESS = '93.184.215.41';
const PLACEHOLDER = 'PORTCULLIS_PLACEHOLDER_image0egress0test0000000000000';
const scratch = mkdtempSync('/tmp/portcullis-image-egress-');
const socketDir = join(scratch, 'run');
const audit: EgressAuditEvent[] = [];
const received: string[] = [];
let server: HttpsServer;
let proxy: Server;
let image: RunningImage;

beforeAll(async () => {
  await requireImage();
  const keyPath = join(scratch, 'server.key');
  const certPath = join(scratch, 'server.pem');
  selfSignedServerCert(keyPath, certPath, ALLOWED, `DNS:${ALLOWED}`);
  server = createHttpsServer({ key: readFileSync(keyPath), cert: readFileSync(certPath) }, (req, res) => {
    received.push(`${req.headers.host} ${req.url}`);
    res.end(`hello from ${req.headers.host}${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  // The stand-in for Cloudflare's interception CA: its certificate at Cloudflare's path, its key on the host.
  const ca = await createInterceptCa(scratch);
  chmodSync(ca.certPath, 0o644);
  execFileSync('mkdir', ['-m', '0755', socketDir]);
  proxy = createEgressProxy({
    policy: { allow: [{ host: ALLOWED, port: 443 }], operatorAllow: [], blockPrivate: true },
    // A credential bound to the allowed host: the proxy then terminates every tunnel (as the
    // interception does), which is what makes the tool's trust of the CA matter.
    placeholders: [{ placeholder: PLACEHOLDER, value: 'real-value-never-in-the-container', hosts: [ALLOWED] }],
    resolve: async (host) => (host === ALLOWED ? [ALLOWED_ADDRESS] : host === OTHER ? [OTHER_ADDRESS] : []),
    dial: (address, p) =>
      p === 443 && (address === ALLOWED_ADDRESS || address === OTHER_ADDRESS) ? { host: '127.0.0.1', port } : { host: address, port: p },
    upstreamCa: [readFileSync(certPath, 'utf8')],
    intercept: ca,
    audit: (event) => audit.push(event),
  });
  const socket = join(socketDir, 'egress.sock');
  await new Promise<void>((resolve, reject) => proxy.listen(socket, resolve).once('error', reject));
  chmodSync(socket, 0o666);
  image = await startImage({
    mounts: [`${socketDir}:/run/portcullis`, `${ca.certPath}:/etc/cloudflare/certs/cloudflare-containers-ca.crt:ro`],
  });
}, 120_000);

afterAll(async () => {
  await image?.stop();
  proxy?.closeAllConnections();
  proxy?.close();
  server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A Node tool that fetches `url` through the launcher's forwarder (127.0.0.1:3128 → the socket). */
function fetchTool(url: string, env: Record<string, string> = {}) {
  const script = `fetch(${JSON.stringify(url)}).then(async (r) => console.log(r.status, await r.text()), (e) => { console.log('failed', e.cause?.code ?? e.cause?.message ?? e.message); process.exit(3); })`;
  return image.post(
    call(['node', '/app/launcher.mjs', 'node', '-e', script], {
      env: { HTTPS_PROXY: 'http://127.0.0.1:3128', NODE_USE_ENV_PROXY: '1', ...env },
    }),
  );
}

describe('egress from the image: no network of its own, HTTPS only through the egress decision', { timeout: 90_000 }, () => {
  it("reaches an allowlisted server over HTTPS, trusting the interception CA at Cloudflare's path", async () => {
    const before = received.length;
    const { json } = await fetchTool(`https://${ALLOWED}/ping`);
    expect(json.stdout).toBe(`200 hello from ${ALLOWED}/ping\n`);
    expect(received.slice(before)).toEqual([`${ALLOWED} /ping`]);
    expect(audit.at(-1)).toEqual({
      type: 'egress.decision',
      via: 'connect',
      host: ALLOWED,
      port: 443,
      allow: true,
      rule: 6,
      reason: 'allowlisted',
    });
  });

  it('gives every tool the trust variables naming that CA (curl, OpenSSL, Python, git read them too)', async () => {
    const { json } = await image.post(
      call(['sh', '-c', 'env | grep -E "^(SSL_CERT_FILE|CURL_CA_BUNDLE|NODE_EXTRA_CA_CERTS|REQUESTS_CA_BUNDLE|GIT_SSL_CAINFO)=" | sort']),
    );
    const path = '/etc/cloudflare/certs/cloudflare-containers-ca.crt';
    expect(json.stdout).toBe(
      ['CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE']
        .map((n) => `${n}=${path}\n`)
        .join(''),
    );
  });

  it.each([
    ['a host the tool did not declare', `https://${OTHER}/ping`],
    ['the allowed host on another port', `https://${ALLOWED}:8443/ping`],
    ['a private address literal', 'https://127.0.0.1/ping'],
  ])('refuses %s: nothing reaches any server', async (_label, url) => {
    const before = received.length;
    const auditBefore = audit.length;
    const { json } = await fetchTool(url);
    expect(json.exitCode).toBe(3);
    expect(json.stdout).toMatch(/^failed /);
    expect(received.length).toBe(before);
    expect(audit.slice(auditBefore).map((e) => (e as { allow?: boolean }).allow)).toEqual([false]);
  });

  it('has no way out that skips the proxy: direct TCP to any address fails, nothing is received', async () => {
    const before = received.length;
    const script = `const net = require('node:net'); let left = 3; for (const [h, p] of [['127.0.0.1', 443], ['${ALLOWED_ADDRESS}', 443], ['1.1.1.1', 53]]) net.connect(p, h).on('connect', () => { console.log('connected', h); process.exit(1); }).on('error', (e) => { console.log(h, e.code); if (--left === 0) process.exit(0); });`;
    const { json } = await image.post(call(['node', '-e', script]));
    expect(json.exitCode).toBe(0);
    expect(json.stdout).toContain('127.0.0.1 ECONNREFUSED');
    expect(json.stdout).toContain(`${ALLOWED_ADDRESS} ENETUNREACH`);
    expect(json.stdout).toContain('1.1.1.1 ENETUNREACH');
    expect(received.length).toBe(before);
  });
});
