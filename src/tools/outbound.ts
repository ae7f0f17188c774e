/**
 * The container's egress decision, as a pure function of the intercepted Request, the tool's
 * compiled `cloudflare` policy and two injected lookups (name resolution, credential reveal).
 * ToolSandbox's outbound handler (sandbox-object.ts) only audits what this returns and
 * forwards the request it hands back. Numbered precedence, first match wins (docs/sandbox.md
 * "Worker side"):
 * 1. the request is not `https:` → deny (the allowlist is HTTPS only);
 * 2. credentials are bound and the body is over OUTBOUND_MAX_BODY_BYTES → deny (it cannot be
 *    inspected for placeholders);
 * 3. it carries a placeholder (URL, any header, a Basic credential, the body) whose credential
 *    is not bound to the destination host → deny, nothing is sent;
 * 4. decideEgress (src/policy, its own rules 1–8) allows host:port → forward, with the
 *    placeholders bound to this host replaced by the real values;
 * 5. otherwise → deny, with decideEgress's rule and reason.
 */
import { decideEgress, type EgressPolicy, hostText, parseHost } from '../policy';
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

export type OutboundDenyReason = 'not-https' | 'body-uninspectable' | 'placeholder-foreign-host' | 'credential-unavailable' | string;

export type OutboundDecision =
  | { allow: true; rule: 4; host: string; port: number; egressRule: number; reason: string; swapped: string[]; forward: Request }
  | { allow: false; rule: 1 | 2 | 3 | 4 | 5; host: string; port: number; egressRule?: number; reason: OutboundDenyReason };

function normalHost(raw: string): string {
  const parsed = parseHost(raw);
  return parsed === null ? raw.toLowerCase() : hostText(parsed);
}

/** Every text of the request a placeholder could hide in, Basic credentials decoded (RFC 7617). */
function inspectedTexts(url: string, headers: Headers, body: string): string[] {
  const texts = [url, body];
  headers.forEach((value, name) => {
    texts.push(`${name}: ${value}`);
    const basic = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
    if (basic?.[1]) {
      try {
        texts.push(atob(basic[1]));
      } catch {
        // not base64: the raw header text above is still inspected
      }
    }
  });
  return texts;
}

function replaceAll(text: string, swaps: ReadonlyArray<[string, string]>): string {
  let out = text;
  for (const [placeholder, value] of swaps) out = out.split(placeholder).join(value);
  return out;
}

function swapHeader(value: string, swaps: ReadonlyArray<[string, string]>): string {
  const basic = /^(\s*basic\s+)([A-Za-z0-9+/=]+)(\s*)$/i.exec(value);
  if (basic?.[2]) {
    try {
      const decoded = atob(basic[2]);
      const swapped = replaceAll(decoded, swaps);
      if (swapped !== decoded) return `${basic[1]}${btoa(swapped)}${basic[3]}`;
    } catch {
      // fall through to the literal swap
    }
  }
  return replaceAll(value, swaps);
}

export async function decideOutbound(request: Request, policy: OutboundPolicy, deps: OutboundDeps): Promise<OutboundDecision> {
  const url = new URL(request.url);
  const host = normalHost(url.hostname);
  const port = url.port === '' ? HTTPS_DEFAULT_PORT : Number(url.port);
  // 1. HTTPS only.
  if (url.protocol !== 'https:') return { allow: false, rule: 1, host, port, reason: 'not-https' };

  let body = '';
  if (policy.credentials.length > 0 && request.body !== null) {
    const bytes = new Uint8Array(await request.clone().arrayBuffer());
    // 2. Too large to inspect → deny rather than let a placeholder through unseen.
    if (bytes.byteLength > OUTBOUND_MAX_BODY_BYTES) return { allow: false, rule: 2, host, port, reason: 'body-uninspectable' };
    body = new TextDecoder().decode(bytes);
  }

  // 3. A placeholder bound elsewhere never leaves.
  const texts = policy.credentials.length > 0 ? inspectedTexts(request.url, request.headers, body) : [];
  const carried = policy.credentials.filter((binding) => texts.some((text) => text.includes(binding.placeholder)));
  const boundHere = (binding: CredentialBinding) => binding.hosts.some((bound) => normalHost(bound) === host);
  if (carried.some((binding) => !boundHere(binding))) return { allow: false, rule: 3, host, port, reason: 'placeholder-foreign-host' };

  let addresses: string[] = [];
  if (parseHost(url.hostname)?.kind === 'domain') addresses = await deps.resolve(host).catch(() => []);
  const egress = decideEgress(policy.egress, { host: url.hostname, port, resolvedAddresses: addresses });
  // 5. Anything decideEgress does not allow is denied (its list ends in deny).
  if (!egress.allow) return { allow: false, rule: 5, host, port, egressRule: egress.rule, reason: egress.reason };

  // 4. Allowed: swap the placeholders bound to this host for their values.
  const swaps: Array<[string, string]> = [];
  for (const binding of carried) {
    const value = await deps.reveal(binding.name);
    if (value === null) return { allow: false, rule: 3, host, port, reason: 'credential-unavailable' };
    swaps.push([binding.placeholder, value]);
  }
  if (swaps.length === 0) return { allow: true, rule: 4, host, port, egressRule: egress.rule, reason: egress.reason, swapped: [], forward: request };
  const headers = new Headers();
  request.headers.forEach((value, name) => headers.set(name, swapHeader(value, swaps)));
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
  const forward = new Request(replaceAll(request.url, swaps), { method: request.method, headers, body: hasBody ? replaceAll(body, swaps) : null, redirect: 'manual' });
  return { allow: true, rule: 4, host, port, egressRule: egress.rule, reason: egress.reason, swapped: carried.map((b) => b.name), forward };
}
