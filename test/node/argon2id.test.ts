import { argon2id } from '@noble/hashes/argon2.js';
import { describe, expect, it } from 'vitest';
import vectors from '../fixtures/argon2id-vectors.json' with { type: 'json' };
import { bytesToHex, hexToBytes } from '../../src/lib';
import { ARGON2_PARAMS, hashPassword, parsePhc, verifyPassword } from '../../src/auth/passwords';

const bytes = (hex: string) => hexToBytes(hex) ?? new Uint8Array();

describe('Argon2id known-answer tests', () => {
  it('RFC 9106 §5.3 (with secret and associated data) through the library we hash with', () => {
    const v = vectors.rfc9106;
    const tag = argon2id(bytes(v.passwordHex), bytes(v.saltHex), {
      t: v.t,
      m: v.m,
      p: v.p,
      dkLen: v.dkLen,
      key: bytes(v.secretHex),
      personalization: bytes(v.adHex),
    });
    expect(bytesToHex(tag)).toBe(v.tagHex);
  });

  it.each([...vectors.phc, vectors.owaspLocal])(
    'reference PHC string verifies through verifyPassword: $encoded',
    { timeout: 30_000 },
    async ({ password, encoded }) => {
      expect((await verifyPassword(password, encoded)).ok).toBe(true);
    },
  );

  it('a wrong password does not verify against a reference PHC string', async () => {
    const small = vectors.phc.filter((v) => v.encoded.includes('m=256,'));
    expect(small.length).toBe(2);
    for (const { password, encoded } of small) expect((await verifyPassword(`${password}x`, encoded)).ok).toBe(false);
  });

  it('refuses a PHC string whose memory cost exceeds what the gateway will run (256 MiB stays allowed)', () => {
    expect(parsePhc(vectors.phcLarge.encoded)).not.toBeNull();
    expect(parsePhc(vectors.phcLarge.encoded.replace('m=262144', 'm=524288'))).toBeNull();
  });

  it.each(vectors.malformed)('a malformed encoding never verifies: %s', async (encoded) => {
    expect((await verifyPassword('password', encoded)).ok).toBe(false);
  });

  it('hashes at the OWASP parameters with a fresh salt and flags weaker stored hashes for rehash', { timeout: 30_000 }, async () => {
    const a = await hashPassword('a long enough passphrase');
    const b = await hashPassword('a long enough passphrase');
    expect(a).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${ARGON2_PARAMS.m},t=${ARGON2_PARAMS.t},p=${ARGON2_PARAMS.p}\\$`));
    expect(a).not.toBe(b);
    expect(await verifyPassword('a long enough passphrase', a)).toEqual({ ok: true, needsRehash: false });
    const weak = await hashPassword('a long enough passphrase', { m: 256, t: 2, p: 1 });
    expect(await verifyPassword('a long enough passphrase', weak)).toEqual({ ok: true, needsRehash: true });
  });
});
