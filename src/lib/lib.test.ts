import { describe, expect, it } from 'vitest';
import { bytesToHex, canonicalJson, createLogThrottle, hexToBytes, redactTokenShapes, sha256Hex, truncateUtf8 } from './index';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units, recursively (§3.2.3)', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    // RFC 8785 §3.2.3 example ordering: "\r" < "1" < "\u0080" < "ö" < "€" < "😀" < "ﬂ"
    const keys = ['\u20ac', '\r', '\ufb33', '1', '\u00f6', '\ud83d\ude00', '\u0080'];
    // Read the order from the text: JSON.parse would move the integer-like key "1" first.
    const text = canonicalJson(Object.fromEntries(keys.map((k) => [k, 0])));
    const sorted = [...text.matchAll(/"((?:[^"\\]|\\.)*)":0/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(sorted).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('serialises numbers as ECMAScript does (§3.2.2.3)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 333333333.3333333])).toBe('[1e+21,1e-7,0.1,0,333333333.3333333]');
  });

  it('refuses values that are not JSON', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson(() => 1)).toThrow();
  });
});

describe('encodings', () => {
  it('round-trips hex and refuses odd length or non-hex', () => {
    expect(bytesToHex(hexToBytes('00ff10') ?? new Uint8Array())).toBe('00ff10');
    expect(hexToBytes('abc')).toBeNull();
    expect(hexToBytes('zz')).toBeNull();
  });

  it('hashes with SHA-256 (FIPS 180-2 "abc" vector)', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('truncates UTF-8 without splitting a code point and appends the marker within the budget', () => {
    const out = truncateUtf8('é'.repeat(100), 11, '…');
    expect(new TextEncoder().encode(out).length).toBeLessThanOrEqual(11);
    expect(out).toBe('éééé…');
    expect(truncateUtf8('short', 100, '…')).toBe('short');
  });
});

describe('redactTokenShapes', () => {
  it.each([
    'pcl_4xQ9bL2mN7pR1sT5vW8yZ0aC3dF6gH9jK2mN5pQ8rS1',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
    'AKIAIOSFODNN7EXAMPLE',
    'xoxb-123456789012-abcdefghijklmnop',
    'sk-ant-abcdefghijklmnopqrstuvwxyz012345',
    'pcl_4xQ9bL2mN7pR1sT5vW8y-Z0aC3dF6gH9jK2_mN5pQ8rS1',
    'ghs_abcdefghijklmnopqrstuvwxyz0123456789',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLWJ5dGVz',
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
    '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0AAAAB\n-----END PGP PRIVATE KEY BLOCK-----',
  ])('removes %s', (token) => {
    const out = redactTokenShapes(`value=${token};`);
    expect(out).not.toContain(token);
    expect(out).toContain('[REDACTED]');
  });

  it('keeps the scheme of an Authorization value and drops the credential', () => {
    expect(redactTokenShapes('Authorization: Bearer abc.def.ghi-123')).toBe('Authorization: Bearer [REDACTED]');
  });

  it('removes a whole pcl_ key even where it contains - or _ (no half-logged tail)', () => {
    expect(redactTokenShapes('key pcl_abcdefghij-klmnopqrst_uvwxyz0123 end')).toBe('key [REDACTED] end');
  });

  it.each([
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = [REDACTED]'],
    ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_SECRET_ACCESS_KEY=[REDACTED]'],
    ['{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}', '{"SecretAccessKey": "[REDACTED]"}'],
  ])('removes an AWS secret access key after its usual label: %s', (text, expected) => {
    expect(redactTokenShapes(text)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const text = 'The skeleton key opened a bearer bond; AKIA is a word fragment.';
    expect(redactTokenShapes(text)).toBe(text);
  });
});

describe('createLogThrottle', () => {
  it('writes the first line of each window per key and counts the rest into the next one written', () => {
    const throttle = createLogThrottle(1_000, 2);
    expect([throttle.admit('a', 0), throttle.admit('a', 10), throttle.admit('a', 999), throttle.admit('b', 20)]).toEqual([
      0,
      null,
      null,
      0,
    ]);
    expect(throttle.admit('a', 1_000)).toBe(2);
    expect(throttle.admit('a', 1_001)).toBeNull();
  });

  it('tracks at most maxKeys keys: the oldest is dropped and its next line is written', () => {
    const throttle = createLogThrottle(1_000, 2);
    expect([throttle.admit('a', 0), throttle.admit('b', 0), throttle.admit('c', 0)]).toEqual([0, 0, 0]);
    expect([throttle.admit('a', 1), throttle.admit('c', 1)]).toEqual([0, null]);
  });
});
