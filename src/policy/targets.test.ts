import { describe, expect, it } from 'vitest';
import { compileManifest } from './compile';
import { isPrivateAddress } from './host';

const manifest = {
  name: 'm',
  version: '1',
  tools: [{ name: 't', capabilities: ['net:connect:api.github.com', 'net:connect:8.8.8.8:53', 'net:connect:*:80'] }],
};

function egressConfig(egressTarget: 'squid' | 'nftables'): string {
  const result = compileManifest(manifest, { target: 'egress', egressTarget });
  if (!result.ok) throw new Error(result.error.code);
  return result.artifact.config as string;
}

/** Does CIDR `inner` lie inside CIDR `outer`? (checked by sampling the inner base address) */
function cidrs(line: string): string[] {
  return line.split(/[\s,{}]+/).filter((token) => token.includes('/') && /^[0-9a-f:.]+\/\d+$/.test(token));
}

describe('egress configs: range lists the daemons accept as written', () => {
  it('squid: no IPv4-mapped range (squid reads ::ffff:0:0/96 as every IPv4 address) and every entry private', () => {
    const acl =
      egressConfig('squid')
        .split('\n')
        .find((line) => line.startsWith('acl portcullis_blocked dst')) ?? '';
    const ranges = cidrs(acl);
    // Exactly the special-purpose table of src/policy/ip.ts (docs/policy.md "Private or reserved"),
    // written out so a dropped range fails here; IPv4-mapped ::ffff:0:0/96 is left out on purpose.
    expect(ranges).toEqual([
      '0.0.0.0/8',
      '10.0.0.0/8',
      '100.64.0.0/10',
      '127.0.0.0/8',
      '169.254.0.0/16',
      '172.16.0.0/12',
      '192.0.0.0/24',
      '192.0.2.0/24',
      '192.31.196.0/24',
      '192.52.193.0/24',
      '192.88.99.0/24',
      '192.168.0.0/16',
      '192.175.48.0/24',
      '198.18.0.0/15',
      '198.51.100.0/24',
      '203.0.113.0/24',
      '224.0.0.0/4',
      '240.0.0.0/4',
      '::/96',
      '64:ff9b::/96',
      '64:ff9b:1::/48',
      '100::/64',
      '100:0:0:1::/64',
      '2001::/23',
      '2001:db8::/32',
      '2002::/16',
      '2620:4f:8000::/48',
      '3fff::/20',
      '5f00::/16',
      'fc00::/7',
      'fe80::/10',
      'fec0::/10',
      'ff00::/8',
    ]);
    expect(ranges).not.toContain('::ffff:0:0/96');
    for (const range of ranges) expect(isPrivateAddress(range.split('/')[0] ?? ''), range).toBe(true);
  });

  it('squid and nftables: no entry is contained in another (squid ignores the broader one; nft refuses overlaps)', () => {
    for (const config of [egressConfig('squid'), egressConfig('nftables')]) {
      const ranges = config
        .split('\n')
        .flatMap(cidrs)
        .filter((r) => r !== '2000::/3');
      const bases = new Set(ranges.map((r) => r.split('/')[0]));
      // A contained entry would share its base with, or fall inside, a broader one: the
      // well-known offenders are ::/128 and ::1/128 inside ::/96.
      expect(ranges).not.toContain('::/128');
      expect(ranges).not.toContain('::1/128');
      expect(bases.size).toBe(ranges.length);
    }
  });

  it('squid ends in deny all and only allows CONNECT; nftables has policy drop and no name it cannot express', () => {
    const squid = egressConfig('squid');
    expect(squid.trimEnd().split('\n').at(-1)).toBe('http_access deny all');
    expect(squid).toContain('http_access deny !portcullis_connect');
    expect(squid.indexOf('http_access deny portcullis_blocked')).toBeLessThan(squid.indexOf('http_access allow'));
    const nft = egressConfig('nftables');
    expect(nft).toContain('policy drop;');
    expect(nft).toContain('ip daddr 8.8.8.8 tcp dport 53 accept');
    expect(nft).not.toContain('api.github.com');
    const result = compileManifest(manifest, { target: 'egress', egressTarget: 'nftables' });
    expect(result.ok && result.artifact.unenforceable.map((u) => u.capability)).toEqual(['net:connect:api.github.com:443']);
  });
});
