import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  decodeBase64,
  decodeBase64Unpadded,
  decodeBase64Url,
  encodeBase64,
  encodeBase64Unpadded,
  encodeBase64Url,
  formatIPv6,
  parseBearer,
  parseIPv6,
  secretsEqual,
  SESSION_COOKIE,
  SESSION_COOKIE_NAME,
  timingSafeEqualText,
  utf8,
} from './index';

describe('parseBearer (RFC 6750 §2.1): the one reading shared by authentication and the rate limiter', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER abc', 'abc'],
    ['Bearer  abc', 'abc'],
    [' Bearer abc\t', 'abc'],
    ['Bearer pcl_AbC-123.~+/==', 'pcl_AbC-123.~+/=='],
    // @cloudflare/workers-oauth-provider access tokens: userId:grantId:secret.
    ['Bearer usr_1:abcd1234:Zx9-_', 'usr_1:abcd1234:Zx9-_'],
  ])('reads %j as the token %j', (header, token) => {
    expect(parseBearer(header)).toEqual({ kind: 'token', token });
  });

  it.each([undefined, null, '', '  \t '])('reads %j as no header', (header) => {
    expect(parseBearer(header)).toEqual({ kind: 'absent' });
  });

  it.each([
    'Bearer',
    'Bearer ',
    'Bearerabc',
    'Bearer\tabc',
    'Bearer abc def',
    'Bearer abc\u000b',
    'Bearer abc\u000c',
    'Bearer abc\u00a0',
    '\u000bBearer abc',
    'Bearer a=b',
    'Bearer abc,Bearer def',
    'Basic dXNlcjpwYXNz',
    'Token abc',
  ])('refuses %j as malformed (never read as "no credential", which would let a cookie decide)', (header) => {
    expect(parseBearer(header)).toEqual({ kind: 'malformed' });
  });
});

describe('base64 codecs (RFC 4648), strict', () => {
  const bytes = utf8('any carnal pleas\u00ff');
  it('round-trips every alphabet', () => {
    expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
    expect(decodeBase64Url(encodeBase64Url(bytes))).toEqual(bytes);
    expect(decodeBase64Unpadded(encodeBase64Unpadded(bytes))).toEqual(bytes);
  });

  it('spells RFC 4648 §10 vectors', () => {
    expect(encodeBase64(utf8('fo'))).toBe('Zm8=');
    expect(encodeBase64Unpadded(utf8('fo'))).toBe('Zm8');
    expect(encodeBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });

  it.each(['Zm8=', 'Zm9', 'Z', 'Zm8-', 'Zm 8', ''])(
    'refuses %j as unpadded standard base64 (padding, set unused bits, bad length or alphabet)',
    (text) => {
      expect(decodeBase64Unpadded(text)).toBeNull();
    },
  );
});

describe('constant-time comparisons', () => {
  it('compares bytes, refusing a different length', () => {
    expect(constantTimeEqual(utf8('abc'), utf8('abc'))).toBe(true);
    expect(constantTimeEqual(utf8('abc'), utf8('abd'))).toBe(false);
    expect(constantTimeEqual(utf8('abc'), utf8('abcd'))).toBe(false);
  });

  it('compares texts of any length, a prefix is not equal', () => {
    expect(timingSafeEqualText('secret', 'secret')).toBe(true);
    expect(timingSafeEqualText('secret', 'secre')).toBe(false);
    expect(timingSafeEqualText('', 'x')).toBe(false);
  });

  it('compares secrets through their digests', async () => {
    expect(await secretsEqual('s3cret', 's3cret')).toBe(true);
    expect(await secretsEqual('s3cret', 's3cret ')).toBe(false);
  });
});

describe('the one IPv6 parser', () => {
  it.each([
    ['2001:DB8::1', '2001:db8::1'],
    ['::ffff:198.51.100.7', '::ffff:c633:6407'],
    ['0:0:0:0:0:0:0:1', '::1'],
  ])('reads %s as %s', (text, canonical) => {
    const groups = parseIPv6(text);
    expect(groups).not.toBeNull();
    expect(formatIPv6(groups ?? [])).toBe(canonical);
  });

  it.each(['1::2::3', '1:2:3:4:5:6:7:8:9', '::ffff:300.1.1.1', '::ffff:01.1.1.1', '1:2:3:4::5:6:7:8', 'fe80::1%eth0', '[::1]'])(
    'refuses %s',
    (text) => {
      expect(parseIPv6(text)).toBeNull();
    },
  );
});

it('names the session cookie once, with its __Host- prefix', () => {
  expect(SESSION_COOKIE).toBe(`__Host-${SESSION_COOKIE_NAME}`);
});
