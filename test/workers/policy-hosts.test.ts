/**
 * The outbound handler runs decideEgress inside workerd, whose URL parser is not Node's:
 * the host spellings must normalise identically here (the Node suite covers the full table).
 */
import { describe, expect, it } from 'vitest';
import { decideEgress, isPrivateAddress, parseHost } from '../../src/policy';

describe('host normalisation inside workerd', () => {
  it.each([
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['127.0.0.1.', '127.0.0.1'],
    ['１２７.０.０.１', '127.0.0.1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['[::1]', '::1'],
  ])('%s → %s, private', (input, address) => {
    const host = parseHost(input);
    expect(host && host.kind !== 'domain' && host.address).toBe(address);
    expect(host?.private).toBe(true);
  });

  it('folds case, trailing dots and IDN the same way as Node', () => {
    expect(parseHost('API.GitHub.com.')).toEqual({ kind: 'domain', name: 'api.github.com', private: false });
    expect(parseHost('bücher.example')).toEqual({ kind: 'domain', name: 'xn--bcher-kva.example', private: false });
    expect(parseHost('a@127.0.0.1')).toBeNull();
  });

  it('decides egress the same way (numbered rules)', () => {
    const policy = { allow: [{ host: 'api.github.com', port: 443 }], blockPrivate: true as const };
    expect(decideEgress(policy, { host: '0x7f000001', port: 443, resolvedAddresses: [] })).toMatchObject({ allow: false, rule: 3 });
    expect(decideEgress(policy, { host: 'api.github.com', port: 443, resolvedAddresses: ['140.82.112.6'] })).toMatchObject({
      allow: true,
      rule: 6,
    });
    expect(isPrivateAddress('64:ff9b::a9fe:a9fe')).toBe(true);
  });
});
