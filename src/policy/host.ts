/**
 * One host normaliser for every place a host name arrives: capability strings, CONNECT/SNI
 * hosts at the egress proxy, and URLs given to the manifest fetcher. An attacker picks the
 * spelling, so every spelling a resolver or URL parser would accept for an address must
 * normalise to that address here, or be refused.
 */
import { formatIPv4, formatIPv6, isPrivateIPv4, isPrivateIPv6, parseIPv4Dotted, parseIPv6 } from './ip';

export type ParsedHost =
  | { kind: 'ipv4'; address: string; private: boolean }
  | { kind: 'ipv6'; address: string; private: boolean }
  | { kind: 'domain'; name: string; private: boolean };

const MAX_HOST_LENGTH = 253; // RFC 1035 §2.3.4, without the trailing dot
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

function ipv6Host(text: string): ParsedHost | null {
  const groups = parseIPv6(text);
  if (groups === null) return null;
  return { kind: 'ipv6', address: formatIPv6(groups), private: isPrivateIPv6(groups) };
}

/**
 * RFC 6761 §6.3: `localhost` and `*.localhost` resolve to loopback whatever DNS says, and
 * `*.local` is link-local mDNS; treat them as private names without asking a resolver.
 */
function isSpecialUseName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.local') || name === 'local';
}

/**
 * Parses a bare host (no scheme, port, path or userinfo). Accepts what the WHATWG URL host
 * parser accepts — decimal/hex/octal/short IPv4 (`2130706433`, `0x7f000001`, `0177.0.0.1`,
 * `127.1`, `0`), IDN (to punycode), full-width digits and dots, upper case, one trailing
 * dot — and returns the canonical form. Returns null for anything malformed.
 */
export function parseHost(input: string): ParsedHost | null {
  if (input.length === 0 || input.length > MAX_HOST_LENGTH + 2) return null;
  // Characters that would make the URL parser read a different component (userinfo, port,
  // path) or that a resolver might treat differently (percent-escapes, whitespace).
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u0020\u007f@/\\?#%]/.test(input)) return null;
  if (input.startsWith('[') && input.endsWith(']')) return ipv6Host(input.slice(1, -1));
  if (input.includes(':')) return ipv6Host(input);
  if (input.includes('[') || input.includes(']')) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${input}/`).hostname;
  } catch {
    return null;
  }
  if (hostname.startsWith('[')) return ipv6Host(hostname.slice(1, -1));
  const v4 = parseIPv4Dotted(hostname);
  if (v4 !== null) return { kind: 'ipv4', address: formatIPv4(v4), private: isPrivateIPv4(v4) };
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (name.length === 0 || name.length > MAX_HOST_LENGTH) return null;
  if (!name.split('.').every((label) => LABEL.test(label))) return null;
  // A name whose last label is all digits would be read as an address by some resolvers.
  if (/^[0-9]+$/.test(name.slice(name.lastIndexOf('.') + 1))) return null;
  return { kind: 'domain', name, private: isSpecialUseName(name) };
}

/** The canonical text of a parsed host (IPv6 without brackets). */
export function hostText(host: ParsedHost): string {
  return host.kind === 'domain' ? host.name : host.address;
}

/**
 * True when `ip` is an address in any IANA special-purpose range (v4 or v6, including
 * IPv4-mapped/compatible, NAT64, 6to4 and Teredo forms), in any spelling parseHost accepts.
 * Anything that is not an IP address at all also answers true: a caller asking this
 * question about a name has a bug, and the safe answer is "do not connect".
 */
export function isPrivateAddress(ip: string): boolean {
  const host = parseHost(ip);
  if (host === null || host.kind === 'domain') return true;
  return host.private;
}

/**
 * An operator's `host:port,…` list (MODEL_PRIVATE_HOSTS, TELEGRAM_PRIVATE_HOSTS): hosts
 * canonicalised by parseHost, so `LOCALHOST:11434` and `[::1]:8080` match what a URL names.
 * A malformed entry (no port, port outside 1–65535, a host parseHost refuses) opens nothing.
 */
export function hostPortList(raw: string | undefined): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const entry of (raw ?? '').split(',').map((part) => part.trim())) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(entry);
    const host = match?.[1] === undefined ? null : parseHost(match[1]);
    const port = Number(match?.[2]);
    if (host === null || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    out.push({ host: hostText(host), port });
  }
  return out;
}
