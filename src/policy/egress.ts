/**
 * The egress decision (docs/policy.md "Egress decision"): one pure function that the
 * container's outbound handler and the local egress proxy both call. They differ only in
 * how they resolve and connect; the answer is decided here.
 */
import { hostText, parseHost } from './host';

export interface EgressRule {
  host: string; // lower-case, no trailing dot; '*' = any public host
  port: number;
}

export interface EgressPolicy {
  allow: EgressRule[];
  /** Operator configuration only, never a manifest: may open private destinations that `allow` names exactly. */
  operatorAllow?: EgressRule[];
  blockPrivate: true;
}

export interface EgressRequest {
  /** As the client asked (SNI / CONNECT host / Host header). */
  host: string;
  port: number;
  /** What the enforcing side resolved the host to; [] when host is an IP literal. */
  resolvedAddresses: string[];
}

export type EgressDenyReason =
  'malformed-host' | 'ip-literal-private' | 'resolves-private' | 'not-allowlisted' | 'port-not-allowed' | 'no-addresses';

export type EgressDecision = { allow: true; rule: number; reason: string } | { allow: false; rule: number; reason: EgressDenyReason };

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** A rule's host in canonical form; null (never matches) if the rule itself is malformed. */
function ruleHost(rule: EgressRule): string | null {
  if (rule.host === '*') return '*';
  const parsed = parseHost(rule.host);
  return parsed === null ? null : hostText(parsed);
}

/** An enforcing side that hands us something other than an IP address is a bug: fail closed. */
function addressIsPrivate(address: string): boolean {
  const parsed = parseHost(address);
  return parsed === null || parsed.kind === 'domain' || parsed.private;
}

/**
 * Numbered precedence, first match wins; the numbers are the `rule` field and the list in
 * docs/policy.md.
 */
export function decideEgress(policy: EgressPolicy, request: EgressRequest): EgressDecision {
  const host = parseHost(request.host);
  // 1. A host that does not parse, or a port outside 1–65535 → deny.
  if (host === null) return { allow: false, rule: 1, reason: 'malformed-host' };
  if (!isPort(request.port)) return { allow: false, rule: 1, reason: 'port-not-allowed' };
  const name = hostText(host);

  // 2. Operator allowlist, exact host and port, and the tool itself declares exactly that
  //    host and port → allow, even a private destination. An allowance lifts the private
  //    refusal for the tools that name the destination, never for every tool with network
  //    access; '*' counts on neither side (a tool declaring any public host is not naming it).
  const exact = (rule: EgressRule) => rule.host !== '*' && ruleHost(rule) === name && rule.port === request.port;
  if ((policy.operatorAllow ?? []).some(exact) && policy.allow.some(exact)) return { allow: true, rule: 2, reason: 'operator-allow' };

  // 3. The host is an IP literal in a private or reserved range → deny.
  if (host.kind !== 'domain' && host.private) return { allow: false, rule: 3, reason: 'ip-literal-private' };

  // 4. The name is special-use (localhost, *.local) or any resolved address is private,
  //    reserved or not an address → deny. Every address is checked, not only the first:
  //    the connecting side may try them all.
  if (host.private || request.resolvedAddresses.some(addressIsPrivate)) {
    return { allow: false, rule: 4, reason: 'resolves-private' };
  }

  // 5. A name that resolved to nothing → deny (nothing was checked, so nothing may connect).
  if (host.kind === 'domain' && request.resolvedAddresses.length === 0) return { allow: false, rule: 5, reason: 'no-addresses' };

  const hostMatches = policy.allow.filter((rule) => {
    const wanted = ruleHost(rule);
    return wanted === '*' || wanted === name;
  });
  // 6. An allow rule matches host and port → allow.
  if (hostMatches.some((rule) => rule.port === request.port)) return { allow: true, rule: 6, reason: 'allowlisted' };
  // 7. A rule matches the host but with other ports → deny.
  if (hostMatches.length > 0) return { allow: false, rule: 7, reason: 'port-not-allowed' };
  // 8. Otherwise → deny.
  return { allow: false, rule: 8, reason: 'not-allowlisted' };
}
