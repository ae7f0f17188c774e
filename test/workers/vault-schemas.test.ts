import { describe, expect, it } from 'vitest';
import { CredentialName, PutCredentialBody, RotateVaultBody } from '../../src/vault';

describe('credential name ^[A-Z][A-Z0-9_]{0,63}$', () => {
  it.each(['GITHUB_TOKEN', 'A', `A${'B'.repeat(63)}`, 'K8S_TOKEN_2'])('accepts %s', (name) => {
    expect(CredentialName.safeParse(name).success).toBe(true);
  });
  it.each(['', 'github_token', '_TOKEN', '1TOKEN', `A${'B'.repeat(64)}`, 'A-B', 'A B', 'TOKEN\n', 'TÖKEN', '../ETC'])(
    'refuses %j',
    (name) => {
      expect(CredentialName.safeParse(name).success).toBe(false);
    },
  );
});

describe('PUT body {value, allowedHosts?}', () => {
  it.each([
    { what: '1 character', value: 'x' },
    { what: 'exactly 16 KiB of ASCII', value: 'x'.repeat(16384) },
    { what: 'exactly 16 KiB of 2-byte UTF-8', value: 'é'.repeat(8192) },
  ])('accepts a value of $what', ({ value }) => {
    expect(PutCredentialBody.safeParse({ value }).success).toBe(true);
  });

  it.each([
    { what: 'empty', body: { value: '' } },
    { what: '16 KiB + 1 byte', body: { value: 'x'.repeat(16385) } },
    { what: '16 KiB + 2 bytes of UTF-8 (8193 × é)', body: { value: 'é'.repeat(8193) } },
    { what: 'not a string', body: { value: 42 } },
    { what: 'missing', body: {} },
    { what: 'an unknown field', body: { value: 'x', owner: 'ws_other' } },
  ])('refuses a value that is $what', ({ body }) => {
    expect(PutCredentialBody.safeParse(body).success).toBe(false);
  });

  it('never echoes the value in validation issues', () => {
    const secret = `ghp_${'s'.repeat(16400)}`;
    const result = PutCredentialBody.safeParse({ value: secret, allowedHosts: ['https://evil.example/ghp_leak'] });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).not.toContain('ghp_');
  });

  it('lower-cases and de-duplicates hostnames', () => {
    const result = PutCredentialBody.safeParse({ value: 'x', allowedHosts: ['API.GitHub.com', 'api.github.com', 'uploads.github.com'] });
    expect(result.success && result.data.allowedHosts).toEqual(['api.github.com', 'uploads.github.com']);
  });

  it.each([
    'https://api.github.com',
    'api.github.com:443',
    'api.github.com/path',
    '*.github.com',
    '10.0.0.1',
    '127.0.0.1',
    '[::1]',
    'api.github.com.',
    '-api.github.com',
    'api-.github.com',
    'a..b',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
    'user@api.github.com',
    '',
    'xn--nxasmq6b.com\u0000',
  ])('refuses host %j', (host) => {
    expect(PutCredentialBody.safeParse({ value: 'x', allowedHosts: [host] }).success).toBe(false);
  });

  it('accepts ordinary, punycode and single-label hostnames; refuses more than 32', () => {
    expect(PutCredentialBody.safeParse({ value: 'x', allowedHosts: ['localhost', 'xn--nxasmq6b.com', 'a-b.c0.example'] }).success).toBe(
      true,
    );
    const many = Array.from({ length: 33 }, (_, i) => `h${i}.example.com`);
    expect(PutCredentialBody.safeParse({ value: 'x', allowedHosts: many }).success).toBe(false);
  });
});

describe('rotate body', () => {
  it('defaults batchSize to 100 and bounds it to 1…500', () => {
    expect(RotateVaultBody.parse({})).toEqual({ batchSize: 100 });
    expect(RotateVaultBody.safeParse({ batchSize: 0 }).success).toBe(false);
    expect(RotateVaultBody.safeParse({ batchSize: 501 }).success).toBe(false);
    expect(RotateVaultBody.safeParse({ batchSize: 2.5 }).success).toBe(false);
  });
});
