/**
 * DNS-over-HTTPS resolver for fetchManifestFromUrl in Workers, which have no DNS API.
 * Uses the JSON API (`application/dns-json`) of a public resolver; A and AAAA in parallel.
 * What it returns is only ever checked, never trusted: the fetcher refuses any answer that
 * is private, reserved or not an address at all.
 */
export const DEFAULT_DOH_ENDPOINT = 'https://cloudflare-dns.com/dns-query';

const RECORD_A = 1;
const RECORD_AAAA = 28;

interface DnsJson {
  Status?: number;
  Answer?: { type?: number; data?: unknown }[];
}

export function dohResolver(fetchFn: (url: string, init: RequestInit) => Promise<Response>, endpoint: string = DEFAULT_DOH_ENDPOINT) {
  async function query(host: string, type: 'A' | 'AAAA'): Promise<string[]> {
    const url = `${endpoint}?name=${encodeURIComponent(host)}&type=${type}`;
    const response = await fetchFn(url, { headers: { Accept: 'application/dns-json' } });
    if (response.status !== 200) throw new Error(`DoH answered ${response.status}`);
    const body = (await response.json()) as DnsJson;
    // RFC 8484 carries DNS semantics: NXDOMAIN (3) and friends mean "no addresses", not an error.
    if (body.Status !== 0) return [];
    const wanted = type === 'A' ? RECORD_A : RECORD_AAAA;
    return (body.Answer ?? [])
      .filter((record) => record.type === wanted && typeof record.data === 'string')
      .map((record) => record.data as string);
  }
  return async function resolve(host: string): Promise<string[]> {
    const [v4, v6] = await Promise.all([query(host, 'A'), query(host, 'AAAA')]);
    return [...v4, ...v6];
  };
}
