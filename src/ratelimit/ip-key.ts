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
  const groups = expandIpv6(ip.toLowerCase());
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

/** Eight 16-bit groups, or null if this is not an IPv6 address. Accepts a trailing dotted IPv4 and a zone id. */
function expandIpv6(text: string): number[] | null {
  const address = text.split('%', 1)[0] ?? '';
  let head = address;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (dotted) {
    const octets = dotted.slice(2, 6).map(Number);
    if (octets.some((o) => o > 255)) return null;
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    tail.push((a << 8) | b, (c << 8) | d);
    head = dotted[1] === '::' ? '::' : (dotted[1] ?? '').replace(/:$/, '');
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) => (part ? part.split(':') : []);
  const left = parse(halves[0]);
  const right = parse(halves[1]);
  const hex = [...left, ...right];
  if (hex.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const present = hex.length + tail.length;
  if (halves.length === 1 ? present !== 8 : present > 7) return null;
  const zeros = Array<number>(8 - present).fill(0);
  return [...left.map((g) => parseInt(g, 16)), ...zeros, ...right.map((g) => parseInt(g, 16)), ...tail];
}
