import { parseIPv6 } from '../lib';

/**
 * The bucket key of a client address. IPv4 addresses are keyed whole. IPv6 addresses are
 * keyed by their /64 prefix: an end site is normally given at least a /64 (RFC 6177), so
 * one client can pick among 2^64 addresses, and a per-address bucket would let it rotate
 * to a fresh bucket per request. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) is
 * keyed as the IPv4 address it carries. Anything unparsable is keyed as given (it came
 * from CF-Connecting-IP, which the edge sets, and is bounded in length by clientIpOf).
 */
export function ipBucketKey(ip: string): string {
  if (!ip.includes(':')) return `ip:${ip}`;
  // A zone id (`%eth0`) names the client's interface, not another client: keyed without it.
  const groups = parseIPv6(ip.split('%', 1)[0] ?? '');
  if (!groups) return `ip:${ip}`;
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isV4Mapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `ip:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `ip6:${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
