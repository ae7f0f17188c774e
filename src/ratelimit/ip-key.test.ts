import { describe, expect, it } from 'vitest';
import { ipBucketKey } from './ip-key';

describe('ipBucketKey', () => {
  it('keys IPv4 whole', () => {
    expect(ipBucketKey('198.51.100.7')).toBe('ip:198.51.100.7');
  });

  it.each([
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:7'],
    ['2001:db8:1:2::1', '2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'],
    ['2001:db8:1:2::', '2001:db8:1:2::dead:beef%eth0'],
  ])('gives every address of one /64 the same bucket (%s, %s): no rotation within a prefix', (a, b) => {
    expect(ipBucketKey(a)).toBe(ipBucketKey(b));
    expect(ipBucketKey(a)).toMatch(/^ip6:[0-9a-f:]+::\/64$/);
  });

  it('gives different /64 prefixes different buckets', () => {
    expect(ipBucketKey('2001:db8:1:2::1')).not.toBe(ipBucketKey('2001:db8:1:3::1'));
    expect(ipBucketKey('::1')).toBe('ip6:0:0:0:0::/64');
  });

  it('keys IPv4-mapped IPv6 as the IPv4 address (RFC 4291 §2.5.5.2), in either notation', () => {
    expect(ipBucketKey('::ffff:198.51.100.7')).toBe('ip:198.51.100.7');
    expect(ipBucketKey('::ffff:c633:6407')).toBe('ip:198.51.100.7');
  });

  it.each(['unknown', 'not:an:address:at:all:zz', '1::2::3', '1:2:3:4:5:6:7:8:9', '::ffff:300.1.1.1'])(
    'keys an unparsable value %s as given',
    (raw) => {
      expect(ipBucketKey(raw)).toBe(`ip:${raw}`);
    },
  );
});
