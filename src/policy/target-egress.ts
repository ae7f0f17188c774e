/**
 * egress target (docs/policy.md "egress"): a squid allowlist or an nftables ruleset. Both
 * cover network capabilities only; every other declared capability is listed in
 * `unenforceable` so the operator sees that this artifact alone does not sandbox the tool.
 */
import { parseHost } from './host';
import { parseIPv4Dotted, parseIPv6, SPECIAL_IPV4, SPECIAL_IPV6, type SpecialRange } from './ip';
import type { NormalizedPolicy } from './normalize';
import { type Artifact, baseArtifact, type EgressTarget, netGrantText, NOTE_ASSERTIONS } from './artifact';

export const DEFAULT_DNS_RESOLVERS = ['1.1.1.1', '2606:4700:4700::1111'];

const NOT_NETWORK =
  'not a network capability: the egress target enforces net: only; compile --target bwrap, docker, k8s or cloudflare for it.';

/** Everything but net: and the assertions Portcullis enforces (their ranges are denied first here too). */
function nonNetCapabilities(policy: NormalizedPolicy): string[] {
  const enforced = policy.assertions.filter((a) => a.enforcedBy !== undefined).map((a) => `assert:${a.id}`);
  return policy.declared.filter(
    (text) => !text.startsWith('net:') && !enforced.some((prefix) => text === prefix || text.startsWith(`${prefix}:`)),
  );
}

function header(policy: NormalizedPolicy, comment: string): string[] {
  const scope = policy.scope.kind === 'tool' ? `tool ${policy.scope.tool}` : 'whole server';
  return [
    `${comment} Portcullis egress allowlist, generated; do not edit.`,
    `${comment} ${policy.manifest.name}@${policy.manifest.version} (${scope}) ${policy.provenance}`,
  ];
}

/** The range lists are constants; compute their de-overlapped form once per process. */
let cachedSets: { v4: string[]; v6: string[] } | undefined;
function blockedSets(): { v4: string[]; v6: string[] } {
  cachedSets ??= { v4: withoutContained(SPECIAL_IPV4, false), v6: withoutContained(SPECIAL_IPV6, true) };
  return cachedSets;
}

function compileSquid(policy: NormalizedPolicy, artifact: Artifact): string {
  // squid keeps IPv4 as IPv4-mapped IPv6 internally, so ::ffff:0:0/96 would read as "every
  // IPv4 address"; the IPv4 list already covers mapped destinations. squid also silently
  // ignores the broader of two overlapping entries, hence the same de-overlapping as nft.
  const { v4, v6 } = blockedSets();
  const blocked = [...v4, ...v6.filter((cidr) => cidr !== '::ffff:0:0/96')];
  const lines = [
    ...header(policy, '#'),
    'acl portcullis_connect method CONNECT',
    // squid resolves the requested name for `dst`, so this also catches names that resolve privately.
    `acl portcullis_blocked dst ${blocked.join(' ')}`,
    '# 1. private or reserved destination (literal or resolved) → deny',
    'http_access deny portcullis_blocked',
    '# 2. anything but CONNECT (plain HTTP proxying) → deny',
    'http_access deny !portcullis_connect',
    '# 3. CONNECT to a declared host:port → allow',
  ];
  policy.net.forEach((grant, i) => {
    const name = `portcullis_allow_${i}`;
    const parsed = grant.host === '*' ? null : parseHost(grant.host);
    lines.push(`acl ${name}_port port ${grant.port}`);
    if (grant.host === '*') {
      lines.push(`http_access allow portcullis_connect ${name}_port`);
    } else {
      lines.push(`acl ${name}_host ${parsed?.kind === 'domain' ? 'dstdomain' : 'dst'} ${grant.host}`);
      lines.push(`http_access allow portcullis_connect ${name}_host ${name}_port`);
    }
  });
  lines.push('# 4. everything else → deny', 'http_access deny all');
  artifact.notes.push(
    'squid: dstdomain matches the exact name (no subdomains); `*` grants any public host on that port, private ranges are denied first.',
  );
  return `${lines.join('\n')}\n`;
}

/** nft interval sets refuse overlapping elements; drop ranges already inside another one. */
function withoutContained(ranges: readonly SpecialRange[], v6: boolean): string[] {
  const parse = (cidr: string) => {
    const [base, bits] = cidr.split('/');
    return { base: base ?? '', bits: Number(bits) };
  };
  const inside = (inner: string, outer: string) => {
    const a = parse(inner);
    const b = parse(outer);
    if (a.bits < b.bits || inner === outer) return false;
    if (!v6) {
      const x = parseIPv4Dotted(a.base) ?? 0;
      const y = parseIPv4Dotted(b.base) ?? 0;
      const size = 2 ** (32 - b.bits);
      return x >= y && x < y + size;
    }
    const x = parseIPv6(a.base) ?? [];
    const y = parseIPv6(b.base) ?? [];
    let remaining = b.bits;
    for (let i = 0; i < 8 && remaining > 0; i++) {
      const take = Math.min(16, remaining);
      const mask = (0xffff << (16 - take)) & 0xffff;
      if (((x[i] ?? 0) & mask) !== ((y[i] ?? 0) & mask)) return false;
      remaining -= take;
    }
    return true;
  };
  return ranges.map((r) => r.cidr).filter((cidr, _i, all) => !all.some((other) => inside(cidr, other)));
}

function compileNftables(policy: NormalizedPolicy, artifact: Artifact, resolvers: string[]): string {
  const lines = [
    '#!/usr/sbin/nft -f',
    ...header(policy, '#'),
    'table inet portcullis_egress {',
    `  set blocked_v4 { type ipv4_addr; flags interval; elements = { ${blockedSets().v4.join(', ')} } }`,
    `  set blocked_v6 { type ipv6_addr; flags interval; elements = { ${blockedSets().v6.join(', ')} } }`,
    '  chain output {',
    '    type filter hook output priority filter; policy drop;',
    '    # 1. loopback → accept (the local egress proxy and DNS stub live there)',
    '    oifname "lo" accept',
    '    # 2. replies on connections already accepted → accept',
    '    ct state established,related accept',
    '    # 3. DNS to the configured resolver → accept',
  ];
  for (const resolver of resolvers) {
    const family = resolver.includes(':') ? 'ip6' : 'ip';
    lines.push(`    ${family} daddr ${resolver} udp dport 53 accept`, `    ${family} daddr ${resolver} tcp dport 53 accept`);
  }
  lines.push(
    '    # 4. private or reserved destination → drop',
    '    ip daddr @blocked_v4 drop',
    '    ip6 daddr @blocked_v6 drop',
    '    ip6 daddr != 2000::/3 drop',
    '    # 5. declared address:port → accept',
  );
  for (const grant of policy.net) {
    if (grant.host === '*') {
      lines.push(`    tcp dport ${grant.port} accept`);
      continue;
    }
    const parsed = parseHost(grant.host);
    if (parsed?.kind === 'ipv4') lines.push(`    ip daddr ${parsed.address} tcp dport ${grant.port} accept`);
    else if (parsed?.kind === 'ipv6') lines.push(`    ip6 daddr ${parsed.address} tcp dport ${grant.port} accept`);
    else {
      artifact.unenforceable.push({
        capability: netGrantText(grant.host, grant.port),
        reason: 'nftables matches addresses, not names; use --egress-target squid (or the bwrap/docker/cloudflare proxy) for host names.',
      });
    }
  }
  lines.push('    # 6. everything else → drop (chain policy)', '  }', '}');
  artifact.notes.push(`nftables: DNS allowed only to ${resolvers.join(', ')}; apply inside the tool's network namespace.`);
  return `${lines.join('\n')}\n`;
}

export function compileEgress(policy: NormalizedPolicy, egressTarget: EgressTarget, resolvers: string[] = DEFAULT_DNS_RESOLVERS): Artifact {
  const artifact = baseArtifact(policy, 'egress');
  artifact.egressTarget = egressTarget;
  // This artifact injects nothing and runs nothing: those capabilities are listed below instead.
  artifact.envInjections = [];
  artifact.exec = [];
  artifact.clock = { system: false, tzdata: false };
  artifact.config = egressTarget === 'squid' ? compileSquid(policy, artifact) : compileNftables(policy, artifact, resolvers);
  for (const capability of nonNetCapabilities(policy)) artifact.unenforceable.push({ capability, reason: NOT_NETWORK });
  if (policy.assertions.length > 0) artifact.notes.push(NOTE_ASSERTIONS);
  return artifact;
}
