import { describe, expect, it } from 'vitest';
import { dohResolver } from '../../src/tools/doh-resolve.ts';
import { fetchManifestFromUrl } from '../../src/tools/manifest-fetcher.ts';

function dohFetch(answers: Record<string, { Status: number; Answer?: { type: number; data: string }[] }>, status = 200) {
  const asked: string[] = [];
  const fetchFn = async (url: string) => {
    asked.push(url);
    const u = new URL(url);
    const body = answers[`${u.searchParams.get('name')} ${u.searchParams.get('type')}`] ?? { Status: 3 };
    return new Response(JSON.stringify(body), { status });
  };
  return { fetchFn, asked };
}

describe('dohResolver', () => {
  it('returns A and AAAA data, skipping CNAME records', async () => {
    const { fetchFn, asked } = dohFetch({
      'registry.example A': {
        Status: 0,
        Answer: [
          { type: 5, data: 'cdn.example.' },
          { type: 1, data: '93.184.215.14' },
        ],
      },
      'registry.example AAAA': { Status: 0, Answer: [{ type: 28, data: '2606:2800:21f:cb07:6820:80da:af6b:8b2c' }] },
    });
    expect(await dohResolver(fetchFn)('registry.example')).toEqual(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    expect(asked.every((url) => url.startsWith('https://cloudflare-dns.com/dns-query?name=registry.example&type='))).toBe(true);
  });

  it('NXDOMAIN is no addresses; a failing resolver throws (the fetcher reports resolve-failed)', async () => {
    expect(await dohResolver(dohFetch({}).fetchFn)('nope.example')).toEqual([]);
    await expect(dohResolver(dohFetch({}, 503).fetchFn)('x.example')).rejects.toThrow();
  });

  it('a DoH answer pointing at a private address makes the fetcher refuse the URL', async () => {
    const { fetchFn } = dohFetch({ 'rebind.example A': { Status: 0, Answer: [{ type: 1, data: '127.0.0.1' }] } });
    let fetched = 0;
    const result = await fetchManifestFromUrl('https://rebind.example/m.json', {
      resolve: dohResolver(fetchFn),
      fetch: async () => {
        fetched++;
        return new Response('{}');
      },
    });
    expect(result).toEqual({ ok: false, kind: 'url-not-allowed', reason: 'resolves-private', hop: 0 });
    expect(fetched).toBe(0);
  });
});
