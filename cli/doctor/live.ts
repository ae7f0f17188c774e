/**
 * Live checks against a running gateway (--url), without credentials: security headers and
 * CSP, a foreign-origin preflight, whether setup is still open, and /healthz's dangerous
 * settings. Every request is a plain GET/OPTIONS that changes nothing on the gateway.
 */
import { quoteValue } from '../../src/policy/index.ts';
import { finding, type Finding, type NotRun } from './checks.ts';

export interface LiveIo {
  fetch: typeof fetch;
}

/** An origin no deployment can have configured (RFC 6761 reserves .invalid). */
export const PROBE_ORIGIN = 'https://doctor-probe.invalid';
const REQUEST_TIMEOUT_MS = 30_000;

/** Header → what its value must contain (lower-cased), as docs/http.md promises on every response. */
export const REQUIRED_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'deny',
  'referrer-policy': 'no-referrer',
  'content-security-policy': '',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': '',
};

export function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.endsWith('.localhost');
}

export async function request(io: LiveIo, url: URL, path: string, init: RequestInit = {}): Promise<Response> {
  return io.fetch(new URL(path, url.origin), { redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init });
}

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...values] = part.trim().toLowerCase().split(/\s+/);
    if (name && !map.has(name)) map.set(name, values);
  }
  return map;
}

function headerProblems(path: string, res: Response, page: boolean): Finding[] {
  const findings: Finding[] = [];
  for (const [name, needs] of Object.entries(REQUIRED_HEADERS)) {
    const value = res.headers.get(name);
    if (value === null || !value.toLowerCase().includes(needs))
      findings.push(finding('live.headers.missing', `${path}: ${name} ${value === null ? 'is missing' : 'has an unexpected value'}`));
  }
  const csp = directives(res.headers.get('content-security-policy') ?? '');
  if (page) {
    const scripts = csp.get('script-src') ?? csp.get('default-src');
    if (!scripts || scripts.includes("'unsafe-inline'") || scripts.includes('*'))
      findings.push(finding('live.csp.weak', `${path}: the page's CSP allows inline or any scripts`));
  } else if (csp.get('default-src')?.join(' ') !== "'none'" || csp.get('frame-ancestors')?.join(' ') !== "'none'") {
    findings.push(finding('live.csp.weak', `${path}: CSP lacks default-src 'none' or frame-ancestors 'none'`));
  }
  return findings;
}

/** Precedence of what is checked; a gateway that does not answer /healthz stops the rest (not run). */
export async function checkLive(url: URL, io: LiveIo): Promise<{ findings: Finding[]; notRun: NotRun[] }> {
  const findings: Finding[] = [];
  const notRun: NotRun[] = [];
  let health: Response;
  try {
    health = await request(io, url, '/healthz');
  } catch (error) {
    return { findings, notRun: [{ check: 'live', reason: `${url.origin} did not answer (${(error as Error).name})` }] };
  }
  if (health.status !== 200) return { findings, notRun: [{ check: 'live', reason: `/healthz answered ${health.status}` }] };
  const body = (await health.json().catch(() => ({}))) as { dangerous?: unknown };
  findings.push(...headerProblems('/healthz', health, false));
  for (const setting of Array.isArray(body.dangerous) ? body.dangerous : [])
    findings.push(finding('live.health.dangerous', `/healthz reports ${quoteValue(String(setting))}`));

  const missing = await request(io, url, '/api/v1/doctor-probe-not-found');
  await missing.body?.cancel();
  findings.push(...headerProblems('/api/v1/ (404)', missing, false));
  const root = await request(io, url, '/');
  const isPage = root.status === 200 && (root.headers.get('content-type') ?? '').includes('text/html');
  await root.body?.cancel();
  if (isPage) findings.push(...headerProblems('/', root, true));

  const preflight = await request(io, url, '/api/v1/agents', {
    method: 'OPTIONS',
    headers: {
      Origin: PROBE_ORIGIN,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type',
    },
  });
  await preflight.body?.cancel();
  const granted = preflight.headers.get('access-control-allow-origin');
  if (granted === PROBE_ORIGIN || granted === '*')
    findings.push(
      finding('live.cors.foreign_origin', `a preflight from ${PROBE_ORIGIN} got Access-Control-Allow-Origin: ${quoteValue(granted)}`),
    );

  const setup = await request(io, url, '/api/v1/setup');
  const state = (await setup.json().catch(() => ({}))) as { needed?: unknown };
  if (setup.status !== 200 || typeof state.needed !== 'boolean')
    notRun.push({ check: 'live.setup', reason: `GET /api/v1/setup answered ${setup.status}` });
  else if (state.needed)
    findings.push(
      isLoopback(url)
        ? finding('live.setup.open_local', `${url.origin} has not completed setup`)
        : finding('live.setup.open_public', `${url.origin} has not completed setup`),
    );
  return { findings, notRun };
}
