#!/usr/bin/env node
// End-to-end webhook benchmark (issue 6): requests per second of a signed Slack
// `event_callback` through `wrangler dev`, against GET /healthz on the same server as the
// baseline. It starts its own `wrangler dev` on a free 127.0.0.1 port with a throw-away
// persistence dir and throw-away secrets, sets up a workspace, agent and Slack connector
// through the real REST API, then loads both routes with bounded concurrency for a fixed time.
// Prints one `BENCH {json}` line (scripts/bench.mjs collects it). Loopback only: the
// connector has no bot token, so the Worker never attempts an outbound reply.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const HOST = '127.0.0.1';
const CONCURRENCY = 8;
const WARMUP_MS = 1_500;
const DURATION_MS = 5_000;
const MAX_REQUESTS_PER_PHASE = 50_000;
const STARTUP_TIMEOUT_MS = 120_000;
const DRAIN_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 15_000;
const WATCHDOG_MS = 6 * 60_000; // the whole run, whatever happens

const work = mkdtempSync(join(tmpdir(), 'portcullis-e2e-bench-'));
const persistDir = join(work, 'state');
// No telemetry, no update check, no cf.json download, a private dev registry: nothing leaves
// the machine and nothing touches the developer's own `wrangler dev` state.
const wranglerEnv = {
  ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0', DO_NOT_TRACK: '1', WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_REGISTRY_PATH: join(work, 'registry'), WRANGLER_CI_DISABLE_CONFIG_WATCHING: 'true',
};

let wrangler = null;
const wranglerLog = [];
const wranglerRunning = () => wrangler !== null && wrangler.exitCode === null && wrangler.signalCode === null;
function signalWrangler(signal) {
  // Started detached, so its pid is its process group, which also holds workerd.
  try { if (wrangler) process.kill(-wrangler.pid, signal); } catch { /* the group is gone already */ }
}
process.on('exit', () => { signalWrangler('SIGKILL'); rmSync(work, { recursive: true, force: true }); });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
setTimeout(() => { console.error('[e2e-bench] watchdog: giving up'); process.exit(1); }, WATCHDOG_MS).unref();

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().on('error', reject);
    server.listen(0, HOST, () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

let port = 0;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function send(method, path, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const allHeaders = body === undefined ? headers : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers };
    const req = request({ host: HOST, port, method, path, headers: allHeaders, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

let session = {};
async function api(method, path, json, expected) {
  const res = await send(method, path, session, json === undefined ? undefined : JSON.stringify(json));
  if (res.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${res.status} ${res.text.slice(0, 300)}`);
  return { body: res.text ? JSON.parse(res.text) : null, headers: res.headers };
}

// Hook requests are rate limited per client IP (60/min). Every request gets its own
// CF-Connecting-IP (`wrangler dev` passes it through) so the figure is the pipeline's, not the
// limiter's refusal path. Addresses come from 198.18.0.0/15, reserved for benchmarking (RFC 2544).
let ipCounter = 0;
function nextClientIp() {
  const n = ipCounter++ % 131_072;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

// Slack's scheme: X-Slack-Signature = v0= + hex HMAC-SHA256(signing secret, `v0:<ts>:<raw body>`).
let eventCounter = 0;
function signedSlackEvent(signingSecret, { tamper = false } = {}) {
  const ts = Math.floor(Date.now() / 1000);
  const eventId = `EvBENCH${(eventCounter++).toString(36).toUpperCase()}`; // unique: never a duplicate
  const body = JSON.stringify({
    type: 'event_callback', event_id: eventId, team_id: 'TBENCH',
    event: { type: 'message', user: 'UBENCH', channel: 'CBENCH', text: 'hello from the benchmark', ts: `${ts}.000100` },
  });
  const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const headers = { 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': signature, 'CF-Connecting-IP': nextClientIp() };
  return { body: tamper ? body.replace('hello', 'HELLO') : body, headers };
}

/**
 * `CONCURRENCY` loops fire requests for `durationMs`; any answer but 200 aborts the run.
 * p50/p99 are per-request wall times under that concurrency (queueing included), unlike the
 * batch means of bench/workers/harness.ts; compare the opsPerSec ratio, not the latencies.
 */
async function load(name, fire, durationMs) {
  const latenciesUs = [];
  const start = performance.now();
  const deadline = start + durationMs;
  let sent = 0;
  const loop = async () => {
    while (performance.now() < deadline && sent++ < MAX_REQUESTS_PER_PHASE) {
      const t0 = performance.now();
      const res = await fire();
      latenciesUs.push((performance.now() - t0) * 1000);
      if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const elapsedMs = performance.now() - start;
  latenciesUs.sort((a, b) => a - b);
  const percentile = (p) => latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(p * latenciesUs.length))] ?? 0;
  const [opsPerSec, p50Us, p99Us] = [(latenciesUs.length / elapsedMs) * 1000, percentile(0.5), percentile(0.99)].map(Math.round);
  return { name, iterations: latenciesUs.length, opsPerSec, p50Us, p99Us };
}

async function main() {
  // 1. throw-away secrets (the same two scripts/dev.mjs generates) and migrations.
  const setupToken = randomBytes(32).toString('base64url');
  const envFile = join(work, 'bench.env');
  writeFileSync(envFile, `SETUP_TOKEN=${setupToken}\nVAULT_KEYS=bench1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const migrate = spawnSync(process.execPath, [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistDir], { cwd: root, env: wranglerEnv, encoding: 'utf8', timeout: 120_000 });
  if (migrate.status !== 0) throw new Error(`applying migrations failed:\n${migrate.stdout}${migrate.stderr}`);

  // 2. wrangler dev on free loopback ports; --env-file means the project's .dev.vars is not read.
  port = await freePort();
  const inspectorPort = await freePort();
  wrangler = spawn(process.execPath, [
    WRANGLER, 'dev', '--local', '--ip', HOST, '--port', String(port), '--inspector-ip', HOST, '--inspector-port', String(inspectorPort),
    '--persist-to', persistDir, '--env-file', envFile, '--show-interactive-dev-session=false', '--log-level', 'warn',
  ], { cwd: root, env: wranglerEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [wrangler.stdout, wrangler.stderr]) {
    stream.on('data', (chunk) => { wranglerLog.push(String(chunk)); if (wranglerLog.length > 40) wranglerLog.shift(); });
  }
  const startedAt = performance.now();
  for (;;) {
    if (!wranglerRunning()) throw new Error('wrangler dev exited before it was ready');
    if (performance.now() - startedAt > STARTUP_TIMEOUT_MS) throw new Error('wrangler dev did not answer /healthz in time');
    if (await send('GET', '/healthz').then((res) => res.status === 200, () => false)) break;
    await sleep(250);
  }

  // 3. the real REST API: setup, login (cookie + CSRF token), agent, Slack connector.
  const email = 'bench@example.com';
  const password = `bench-${randomBytes(18).toString('base64url')}`;
  await api('POST', '/api/v1/setup', { token: setupToken, workspace: 'Bench', email, password }, 201);
  const login = await api('POST', '/api/v1/auth/login', { email, password }, 200);
  const cookie = [login.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]).find((c) => c.startsWith('__Host-portcullis_session='));
  if (!cookie) throw new Error('login set no session cookie');
  session = { Cookie: cookie, 'X-CSRF-Token': login.body.csrfToken };
  const { body: createdAgent } = await api('POST', '/api/v1/agents', { name: 'bench agent' }, 201);
  const signingSecret = randomBytes(24).toString('hex');
  const { body: connector } = await api('POST', `/api/v1/agents/${createdAgent.id}/connectors`, { platform: 'slack', signingSecret }, 201);
  const { body: auditBefore } = await api('GET', '/api/v1/audit?limit=500', undefined, 200);
  let auditCursor = auditBefore.events.at(-1)?.seq ?? 0;

  // 4. a tampered body must be refused, so the timed path below really verifies signatures.
  const tampered = signedSlackEvent(signingSecret, { tamper: true });
  const refused = await send('POST', connector.webhookPath, tampered.headers, tampered.body);
  if (refused.status !== 401) throw new Error(`a tampered Slack event got ${refused.status}, expected 401`);

  // 5. every accepted event is audited by the background hand-off (`webhook.accepted`);
  //    drained() waits until `expected` of them are, or gives up after DRAIN_TIMEOUT_MS.
  //    The refused event's audit actor shows which client IP the Worker saw.
  let accepted = 0;
  let refusedActor;
  const drained = async (expected) => {
    const since = performance.now();
    while (accepted < expected && performance.now() - since < DRAIN_TIMEOUT_MS) {
      const { body: page } = await api('GET', `/api/v1/audit?limit=500&cursor=${auditCursor}`, undefined, 200);
      accepted += page.events.filter((event) => event.kind === 'webhook.accepted').length;
      refusedActor ??= page.events.find((event) => event.kind === 'webhook.rejected')?.actor;
      auditCursor = page.events.at(-1)?.seq ?? auditCursor;
      if (!page.nextCursor) await sleep(100);
    }
    return accepted >= expected ? Math.round(performance.now() - since) : null;
  };

  // 6. warm both routes up and let the warm-up's background work finish; then time the
  //    baseline first, so Slack hand-offs still running in the background (waitUntil) cannot
  //    slow it down; then the Slack events, and how long their background work takes to drain.
  const healthz = () => send('GET', '/healthz', { 'CF-Connecting-IP': nextClientIp() });
  const slackEvent = () => { const e = signedSlackEvent(signingSecret); return send('POST', connector.webhookPath, e.headers, e.body); };
  await load('warm-up healthz', healthz, WARMUP_MS);
  const warmSlack = await load('warm-up slack', slackEvent, WARMUP_MS);
  if ((await drained(warmSlack.iterations)) === null) throw new Error('the warm-up events were not all audited in time');
  if (!refusedActor?.startsWith('ip:198.')) throw new Error(`the Worker did not see our CF-Connecting-IP (audit actor ${refusedActor})`);
  const baseline = await load('GET /healthz', healthz, DURATION_MS);
  const slack = await load('POST /hooks/slack event_callback (signed)', slackEvent, DURATION_MS);
  const expectedAccepted = warmSlack.iterations + slack.iterations;
  const drainMs = await drained(expectedAccepted);

  const rows = [baseline, slack].map((m) => ({ ...m, ratioToBaseline: Number((m.opsPerSec / Math.max(1, baseline.opsPerSec)).toFixed(3)) }));
  const extra = { concurrency: CONCURRENCY, durationMs: DURATION_MS, slackEventsAudited: `${accepted}/${expectedAccepted}`, backgroundDrainMsAfterLoad: drainMs };
  console.log(`BENCH ${JSON.stringify({ group: 'webhooks end to end (wrangler dev, loopback)', baseline: baseline.name, results: rows, ...extra })}`);
}

try {
  await main();
  agent.destroy();
  if (wranglerRunning()) {
    const exited = new Promise((resolve) => wrangler.once('exit', resolve));
    signalWrangler('SIGTERM'); // a clean stop first; the exit handler SIGKILLs whatever is left
    await Promise.race([exited, sleep(5_000)]);
  }
} catch (error) {
  console.error(`[e2e-bench] ${error instanceof Error ? error.message : String(error)}`);
  if (wranglerLog.length) console.error(`[e2e-bench] last wrangler output:\n${wranglerLog.join('')}`);
  process.exitCode = 1;
}
process.exit();
