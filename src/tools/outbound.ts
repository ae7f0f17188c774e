/**
 * The container's egress decision, as a pure function of the intercepted Request, the tool's
 * compiled `cloudflare` policy and two injected lookups (name resolution, credential reveal).
 * ToolSandbox's outbound handler (sandbox-object.ts) only audits what this returns, forwards
 * the request it hands back and scrubs the answer (`scrubOutboundResponse`). Numbered
 * precedence, first match wins (docs/sandbox.md "Container egress"):
 * 1. the request is not `https:`, or its Host header names another authority than its URL →
 *    deny (HTTPS only; a credential bound to one virtual host never reaches another);
 * 2. credentials are bound and the body is over OUTBOUND_MAX_BODY_BYTES → deny (it cannot be
 *    inspected for placeholders);
 * 3. it carries a placeholder (URL, any header, a Basic credential, the body) whose credential
 *    is not bound to the destination host → deny, nothing is sent (the shared placeholder
 *    decision, src/policy/placeholders.ts, rule 1); a credential bound to this host that
 *    cannot be opened → deny (its answer could not be scrubbed);
 * 4. decideEgress (src/policy, its own rules 1–8) allows host:port → forward, with each
 *    placeholder replaced by its value only in its credential's header (placeholders rules 2–3),
 *    Host derived from the URL, and the answer scrubbed of every value bound to this host;
 * 5. otherwise → deny, with decideEgress's rule and reason.
 */
import {
  decideEgress,
  type EgressPolicy,
  canonicalHost,
  isBoundTo,
  parseHost,
  planPlaceholders,
  swapPlaceholderHeaders,
  type HeaderList,
} from '../policy';
import { secretByteScrubber, secretRedactor } from '../vault';
import type { CredentialBinding } from './executor';

export const OUTBOUND_MAX_BODY_BYTES = 1024 * 1024;
const HTTPS_DEFAULT_PORT = 443;

export interface OutboundPolicy {
  egress: EgressPolicy;
  credentials: CredentialBinding[];
}

export interface OutboundDeps {
  /** All addresses of a name; [] or a throw means none (decideEgress then denies). */
  resolve(host: string): Promise<string[]>;
  /** The real value of a credential; null when it is gone (the request is then refused). */
  reveal(name: string): Promise<string | null>;
}

export type OutboundDenyReason =
  'not-https' | 'host-mismatch' | 'body-uninspectable' | 'placeholder-foreign-host' | 'credential-unavailable' | string;

export type OutboundDecision =
  | {
      allow: true;
      rule: 4;
      host: string;
      port: number;
      egressRule: number;
      reason: string;
      swapped: string[];
      forward: Request;
      scrub: string[];
    }
  | { allow: false; rule: 1 | 2 | 3 | 4 | 5; host: string; port: number; egressRule?: number; reason: OutboundDenyReason };

/** RFC 9110 §7.2: the Host a client sent names the same authority as the URL it asked for. */
function hostHeaderMatches(value: string | null, host: string, port: number): boolean {
  if (value === null) return true;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match?.[1]) return false;
  return (
    canonicalHost(match[1].replace(/^\[|\]$/g, '')) === host && (match[2] === undefined ? HTTPS_DEFAULT_PORT : Number(match[2])) === port
  );
}

export async function decideOutbound(request: Request, policy: OutboundPolicy, deps: OutboundDeps): Promise<OutboundDecision> {
  const url = new URL(request.url);
  const host = canonicalHost(url.hostname.replace(/^\[|\]$/g, ''));
  const port = url.port === '' ? HTTPS_DEFAULT_PORT : Number(url.port);
  // 1. HTTPS only, to the one authority of the URL.
  if (url.protocol !== 'https:') return { allow: false, rule: 1, host, port, reason: 'not-https' };
  if (!hostHeaderMatches(request.headers.get('host'), host, port)) return { allow: false, rule: 1, host, port, reason: 'host-mismatch' };

  let body: Uint8Array | null = null;
  if (policy.credentials.length > 0 && request.body !== null) {
    body = new Uint8Array(await request.clone().arrayBuffer());
    // 2. Too large to inspect → deny rather than let a placeholder through unseen.
    if (body.byteLength > OUTBOUND_MAX_BODY_BYTES) return { allow: false, rule: 2, host, port, reason: 'body-uninspectable' };
  }

  // 3. A placeholder bound elsewhere never leaves (the shared decision, rule 1).
  const headers: HeaderList = [];
  request.headers.forEach((value, name) => {
    if (name !== 'host') headers.push([name, value]);
  });
  const plan = planPlaceholders(
    { host, target: request.url, headers, body: body === null ? '' : new TextDecoder().decode(body) },
    policy.credentials,
  );
  if (!plan.ok) return { allow: false, rule: 3, host, port, reason: 'placeholder-foreign-host' };

  let addresses: string[] = [];
  if (parseHost(url.hostname)?.kind === 'domain') addresses = await deps.resolve(host).catch(() => []);
  const egress = decideEgress(policy.egress, { host: url.hostname, port, resolvedAddresses: addresses });
  // 5. Anything decideEgress does not allow is denied (its list ends in deny).
  if (!egress.allow) return { allow: false, rule: 5, host, port, egressRule: egress.rule, reason: egress.reason };

  // 4. Allowed: every value bound to this host is needed, to swap and to scrub the answer.
  const values = new Map<string, string>();
  for (const binding of policy.credentials.filter((candidate) => isBoundTo(candidate, host))) {
    const value = await deps.reveal(binding.name);
    if (value === null) return { allow: false, rule: 3, host, port, reason: 'credential-unavailable' };
    values.set(binding.name, value);
  }
  if (values.size === 0)
    return { allow: true, rule: 4, host, port, egressRule: egress.rule, reason: egress.reason, swapped: [], forward: request, scrub: [] };
  const swaps = plan.swap.map((binding) => ({ ...binding, value: values.get(binding.name) ?? '' }));
  const forwardHeaders = new Headers();
  for (const [name, value] of swapPlaceholderHeaders(headers, swaps)) forwardHeaders.append(name, value);
  // Scrubbing needs the answer's bytes as sent: no content coding (refused in scrubOutboundResponse otherwise).
  forwardHeaders.set('accept-encoding', 'identity');
  const hasBody = body !== null && request.method !== 'GET' && request.method !== 'HEAD';
  const forward = new Request(request.url, {
    method: request.method,
    headers: forwardHeaders,
    body: hasBody ? body : null,
    redirect: 'manual',
  });
  return {
    allow: true,
    rule: 4,
    host,
    port,
    egressRule: egress.rule,
    reason: egress.reason,
    swapped: plan.swap.map((b) => b.name),
    forward,
    scrub: [...values.values()],
  };
}

/**
 * The answer as the container may see it: every form redaction knows of each value in
 * `secrets` removed from headers and body (streamed, split-safe). A content coding other than
 * identity cannot be searched, so such an answer is replaced by 502.
 */
export function scrubOutboundResponse(response: Response, secrets: readonly string[]): Response {
  if (secrets.length === 0) return response;
  const encoding = (response.headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    void response.body?.cancel();
    return new Response('Upstream answer could not be inspected.\n', { status: 502, headers: { 'content-type': 'text/plain' } });
  }
  const redact = secretRedactor(secrets);
  const headers = new Headers();
  response.headers.forEach((value, name) => {
    if (name !== 'content-length') headers.append(name, redact(value));
  });
  const scrubber = secretByteScrubber(secrets);
  const body = response.body?.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => controller.enqueue(scrubber.push(chunk)),
      flush: (controller) => controller.enqueue(scrubber.end()),
    }),
  );
  return new Response(body ?? null, { status: response.status, statusText: response.statusText, headers });
}
