/**
 * REPLACE WITH `import { decideEgress, isPrivateAddress, type EgressPolicy, … } from '../../../src/policy'`
 * once the policy-compiler branch (issue 7) is merged.
 *
 * Local copy of the egress decision contract (/work/briefs/egress-contract.md): the types are
 * copied exactly; the two functions are a minimal stand-in with the same precedence so the
 * proxy can be built and tested now. The proxy only depends on the signatures below.
 */
import { isIP } from 'node:net';

export interface EgressRule { host: string; port: number } // host lower-case, no trailing dot; '*' = any public host
export interface EgressPolicy {
  allow: EgressRule[];
  operatorAllow?: EgressRule[];
  blockPrivate: true;
}
export interface EgressRequest {
  host: string;
  port: number;
  resolvedAddresses: string[];
}
export type EgressDecision =
  | { allow: true; rule: number; reason: string }
  | { allow: false; rule: number; reason: EgressDenyReason };
export type EgressDenyReason =
  | 'malformed-host' | 'ip-literal-private' | 'resolves-private' | 'not-allowlisted' | 'port-not-allowed' | 'no-addresses';

const HOST_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Stand-in precedence, numbered as in the policy branch's src/policy/egress.ts:
 * 1 malformed host or port → deny; 2 operatorAllow exact host:port → allow; 3 private IP
 * literal → deny; 4 special-use name or any resolved address private → deny; 5 resolved to
 * nothing → deny; 6 allow rule matches host and port → allow; 7 host matches, port does not →
 * deny; 8 otherwise deny. */
export function decideEgress(policy: EgressPolicy, request: EgressRequest): EgressDecision {
  const host = request.host.toLowerCase().replace(/\.$/, '');
  const literal = isIP(host) !== 0;
  if (!literal && !HOST_RE.test(host)) return { allow: false, rule: 1, reason: 'malformed-host' };
  if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) return { allow: false, rule: 1, reason: 'port-not-allowed' };
  if ((policy.operatorAllow ?? []).some((r) => r.host !== '*' && r.host === host && r.port === request.port)) return { allow: true, rule: 2, reason: 'operator-allow' };
  if (literal && isPrivateAddress(host)) return { allow: false, rule: 3, reason: 'ip-literal-private' };
  const specialName = host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local');
  if (specialName || request.resolvedAddresses.some(isPrivateAddress)) return { allow: false, rule: 4, reason: 'resolves-private' };
  if (!literal && request.resolvedAddresses.length === 0) return { allow: false, rule: 5, reason: 'no-addresses' };
  const hostRules = policy.allow.filter((r) => r.host === host || r.host === '*');
  if (hostRules.some((r) => r.port === request.port)) return { allow: true, rule: 6, reason: 'allowlisted' };
  if (hostRules.length > 0) return { allow: false, rule: 7, reason: 'port-not-allowed' };
  return { allow: false, rule: 8, reason: 'not-allowlisted' };
}

const V4_SPECIAL: Array<[number, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.31.196.0', 24], ['192.52.193.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['192.175.48.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
].map(([a, len]) => [v4ToInt(a as string), len as number]);

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function v4Private(ip: string): boolean {
  const n = v4ToInt(ip);
  return V4_SPECIAL.some(([base, len]) => Math.floor(n / 2 ** (32 - len)) === Math.floor(base / 2 ** (32 - len)));
}

function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase().split('%')[0] ?? '';
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail?.[1]) {
    const n = v4ToInt(v4Tail[1]);
    text = text.slice(0, -v4Tail[1].length) + `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const a = head ? head.split(':') : [];
  const b = tail !== undefined && tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - a.length - b.length).fill('0');
  return [...a, ...fill, ...b].map((g) => Number.parseInt(g, 16));
}

export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip.split('%')[0] ?? '');
  if (family === 4) return v4Private(ip);
  if (family !== 6) return true; // not an address at all: treat as unsafe
  const g = v6Groups(ip);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embeddedV4 = `${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) {
    return g5 === 0 ? true : v4Private(embeddedV4); // ::/96 (incl. :: and ::1) and ::ffff:0:0/96 mapped
  }
  if (g0 === 0x64 && g1 === 0xff9b) return g2 === 1 || v4Private(embeddedV4); // NAT64 64:ff9b::/96, local-use 64:ff9b:1::/48
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return true; // discard 100::/64
  if (g0 === 0x2001 && g1 < 0x200) return true; // 2001::/23 IETF protocol assignments (Teredo, ORCHID…)
  if (g0 === 0x2001 && g1 === 0xdb8) return true; // documentation
  if (g0 === 0x2002) return true; // 6to4
  if (g0 === 0x3fff && g1 < 0x1000) return true; // documentation 3fff::/20
  if ((g0 & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80 || (g0 & 0xffc0) === 0xfec0) return true; // link-local, site-local
  if ((g0 & 0xff00) === 0xff00) return true; // multicast
  return false;
}
