/**
 * The special-purpose address table and CIDR matching over it (the text parsers live in
 * src/lib/ip.ts, shared with the rate limiter). Pure: shared by the egress decision, the
 * capability grammar and the nftables/squid adapters, so every place that says "private or
 * reserved" means exactly the same set of addresses.
 */
import { formatIPv4, formatIPv6, parseIPv4Dotted, parseIPv6 } from '../lib';

export { formatIPv4, formatIPv6, parseIPv4Dotted, parseIPv6 };

export interface SpecialRange {
  cidr: string;
  name: string;
  source: string;
}

/**
 * IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates) plus multicast and
 * the limited broadcast address: nothing here is a destination a tool may reach.
 */
export const SPECIAL_IPV4: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/8', name: 'this network', source: 'RFC 791' },
  { cidr: '10.0.0.0/8', name: 'private use', source: 'RFC 1918' },
  { cidr: '100.64.0.0/10', name: 'shared address space (CGN)', source: 'RFC 6598' },
  { cidr: '127.0.0.0/8', name: 'loopback', source: 'RFC 1122' },
  { cidr: '169.254.0.0/16', name: 'link local (cloud metadata)', source: 'RFC 3927' },
  { cidr: '172.16.0.0/12', name: 'private use', source: 'RFC 1918' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments', source: 'RFC 6890' },
  { cidr: '192.0.2.0/24', name: 'documentation (TEST-NET-1)', source: 'RFC 5737' },
  { cidr: '192.31.196.0/24', name: 'AS112-v4', source: 'RFC 7535' },
  { cidr: '192.52.193.0/24', name: 'AMT', source: 'RFC 7450' },
  { cidr: '192.88.99.0/24', name: 'deprecated 6to4 relay anycast', source: 'RFC 7526' },
  { cidr: '192.168.0.0/16', name: 'private use', source: 'RFC 1918' },
  { cidr: '192.175.48.0/24', name: 'direct delegation AS112 service', source: 'RFC 7534' },
  { cidr: '198.18.0.0/15', name: 'benchmarking', source: 'RFC 2544' },
  { cidr: '198.51.100.0/24', name: 'documentation (TEST-NET-2)', source: 'RFC 5737' },
  { cidr: '203.0.113.0/24', name: 'documentation (TEST-NET-3)', source: 'RFC 5737' },
  { cidr: '224.0.0.0/4', name: 'multicast', source: 'RFC 5771' },
  { cidr: '240.0.0.0/4', name: 'reserved, incl. limited broadcast 255.255.255.255', source: 'RFC 1112, RFC 919' },
];

/**
 * IANA IPv6 Special-Purpose Address Registry plus multicast, site-local and every prefix
 * that embeds an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo): an embedded
 * address could be private, and these forms are never needed to reach a public host.
 * isPrivateAddress additionally treats everything outside 2000::/3 (global unicast) as
 * reserved, which covers any future special-use assignment there.
 */
export const SPECIAL_IPV6: readonly SpecialRange[] = [
  { cidr: '::/128', name: 'unspecified', source: 'RFC 4291' },
  { cidr: '::1/128', name: 'loopback', source: 'RFC 4291' },
  { cidr: '::/96', name: 'IPv4-compatible (deprecated)', source: 'RFC 4291 §2.5.5.1' },
  { cidr: '::ffff:0:0/96', name: 'IPv4-mapped', source: 'RFC 4291 §2.5.5.2' },
  { cidr: '64:ff9b::/96', name: 'NAT64 well-known prefix', source: 'RFC 6052' },
  { cidr: '64:ff9b:1::/48', name: 'NAT64 local use', source: 'RFC 8215' },
  { cidr: '100::/64', name: 'discard only', source: 'RFC 6666' },
  { cidr: '100:0:0:1::/64', name: 'dummy prefix', source: 'RFC 9780' },
  { cidr: '2001::/23', name: 'IETF protocol assignments (incl. Teredo 2001::/32)', source: 'RFC 2928, RFC 4380' },
  { cidr: '2001:db8::/32', name: 'documentation', source: 'RFC 3849' },
  { cidr: '2002::/16', name: '6to4', source: 'RFC 3056' },
  { cidr: '2620:4f:8000::/48', name: 'direct delegation AS112 service', source: 'RFC 7534' },
  { cidr: '3fff::/20', name: 'documentation', source: 'RFC 9637' },
  { cidr: '5f00::/16', name: 'segment routing SIDs', source: 'RFC 9602' },
  { cidr: 'fc00::/7', name: 'unique local', source: 'RFC 4193' },
  { cidr: 'fe80::/10', name: 'link-local unicast', source: 'RFC 4291' },
  { cidr: 'fec0::/10', name: 'site-local (deprecated)', source: 'RFC 3879' },
  { cidr: 'ff00::/8', name: 'multicast', source: 'RFC 4291' },
];

function v4InCidr(value: number, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const prefix = Number(bits);
  const start = parseIPv4Dotted(base ?? '');
  if (start === null) return false;
  const size = 2 ** (32 - prefix);
  return value >= start && value < start + size;
}

function v6InCidr(groups: number[], cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const start = parseIPv6(base ?? '');
  if (start === null) return false;
  let remaining = Number(bits);
  for (let i = 0; i < 8 && remaining > 0; i++) {
    const take = Math.min(16, remaining);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if (((groups[i] ?? 0) & mask) !== ((start[i] ?? 0) & mask)) return false;
    remaining -= take;
  }
  return true;
}

export function isPrivateIPv4(value: number): boolean {
  return SPECIAL_IPV4.some((range) => v4InCidr(value, range.cidr));
}

export function isPrivateIPv6(groups: number[]): boolean {
  // Outside 2000::/3 nothing is global unicast today (RFC 4291 §2.4); fail closed.
  if (((groups[0] ?? 0) & 0xe000) !== 0x2000) return true;
  return SPECIAL_IPV6.some((range) => v6InCidr(groups, range.cidr));
}
