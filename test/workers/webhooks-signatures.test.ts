import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8 } from '../../src/lib';
import {
  defaultEd25519Backend,
  ED25519_L,
  isCanonicalScalar,
  nobleEd25519,
  verifyDiscordSignature,
  verifyEd25519Strict,
  verifySlackSignature,
  verifyTelegramSecret,
  webCryptoEd25519,
  type Ed25519Backend,
} from '../../src/webhooks';
import rfc8032 from '../fixtures/webhooks/ed25519-rfc8032.json';
import speccheck from '../fixtures/webhooks/ed25519-speccheck.json';
import wycheproof from '../fixtures/webhooks/ed25519-wycheproof-malleability.json';
import slack from '../fixtures/webhooks/slack-signing.json';

ed.hashes.sha512 = sha512;

const bytes = (hex: string) => hexToBytes(hex) as Uint8Array;
const BACKENDS: [string, Ed25519Backend][] = [
  ['WebCrypto', webCryptoEd25519],
  ['@noble/ed25519', nobleEd25519],
];

function flipHexByte(hex: string, byteIndex: number): string {
  const i = byteIndex * 2;
  const flipped = (Number.parseInt(hex.slice(i, i + 2), 16) ^ 0x01).toString(16).padStart(2, '0');
  return hex.slice(0, i) + flipped + hex.slice(i + 2);
}

function scalarToHex(value: bigint): string {
  const out = new Uint8Array(32);
  let rest = value;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytesToHex(out);
}

function hexToScalar(hex: string): bigint {
  return [...bytes(hex)].reverse().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

const discord = rfc8032.discordStyle;
const DISCORD_NOW = Number(discord.timestamp) * 1000;
const discordInput = (overrides: Partial<Parameters<typeof verifyDiscordSignature>[0]> = {}) => ({
  publicKeyHex: discord.publicKey,
  signatureHex: discord.signature,
  timestamp: discord.timestamp,
  rawBody: utf8(discord.body),
  now: DISCORD_NOW,
  ...overrides,
});

/**
 * A signature whose R carries the order-2 point (0, −1): it satisfies the cofactored equation
 * [8][S]B = [8]R + [8][k]A but not the cofactorless one, so implementations disagree on it.
 * Only the key holder can make one; built here from the RFC 8032 TEST 1 secret key.
 */
function torsionedSignature(message: Uint8Array): string {
  const { scalar, pointBytes } = ed.utils.getExtendedPublicKey(bytes(rfc8032.tests[0]!.secretKey));
  const r = 0x1234567890abcdefn;
  const orderTwo = ed.Point.fromHex(`ec${'ff'.repeat(30)}7f`);
  const encodedR = ed.Point.BASE.multiply(r).add(orderTwo).toBytes();
  const k = ed.etc.mod(hexToScalar(bytesToHex(sha512(ed.etc.concatBytes(encodedR, pointBytes, message)))), ED25519_L);
  return bytesToHex(encodedR) + scalarToHex(ed.etc.mod(r + k * scalar, ED25519_L));
}

describe('Ed25519 backends: RFC 8032 §7.1 test vectors', () => {
  it.each(rfc8032.tests)('the fixture is self-consistent: $name secret key signs to the listed signature', (test) => {
    expect(bytesToHex(ed.getPublicKey(bytes(test.secretKey)))).toBe(test.publicKey);
    expect(bytesToHex(ed.sign(bytes(test.message), bytes(test.secretKey)))).toBe(test.signature);
  });

  for (const [name, backend] of BACKENDS) {
    it.each(rfc8032.tests)(`${name} accepts $name and refuses it with one signature, message or key byte changed`, async (test) => {
      const [pk, sig, msg] = [bytes(test.publicKey), bytes(test.signature), bytes(test.message)];
      expect(await backend(pk, sig, msg)).toBe(true);
      expect(await verifyEd25519Strict(pk, sig, msg, backend)).toBe('valid');
      expect(await backend(pk, bytes(flipHexByte(test.signature, 5)), msg)).toBe(false);
      expect(await backend(pk, bytes(flipHexByte(test.signature, 40)), msg)).toBe(false);
      const longer = ed.etc.concatBytes(msg, Uint8Array.of(0));
      expect(await backend(pk, sig, longer)).toBe(false);
      expect(
        await verifyEd25519Strict(
          bytes(rfc8032.tests[1]!.publicKey === test.publicKey ? rfc8032.tests[2]!.publicKey : rfc8032.tests[1]!.publicKey),
          sig,
          msg,
          backend,
        ),
      ).toBe('bad-signature');
    });
  }
});

describe('Ed25519: Wycheproof signature malleability (RFC 8032 §5.1.7, §8.4)', () => {
  const pk = bytes(wycheproof.publicKey);
  const msg = bytes(wycheproof.message);
  for (const [name, backend] of BACKENDS) {
    it.each(wycheproof.tests)(`${name}: tcId $tcId ($comment) is $result`, async (test) => {
      const sig = hexToBytes(test.signature);
      if (!sig || sig.length !== 64) {
        expect(test.result).toBe('invalid'); // tcId 33: 66 bytes never reaches a backend
        return;
      }
      const verdict = await verifyEd25519Strict(pk, sig, msg, backend);
      if (test.result === 'valid') expect(verdict).toBe('valid');
      else expect(verdict).toBe('non-canonical-s');
    });
  }

  it.each([
    [0n, true],
    [1n, true],
    [ED25519_L - 1n, true],
    [ED25519_L, false],
    [ED25519_L + 1n, false],
    [2n ** 253n, false],
    [2n ** 256n - 1n, false],
  ])('the byte-wise range check agrees with BigInt: S = %s → canonical %s', (s, canonical) => {
    expect(isCanonicalScalar(bytes(scalarToHex(s)))).toBe(canonical);
    expect(s < ED25519_L).toBe(canonical);
  });

  it('refuses S ≥ L itself, before the backend is asked', async () => {
    const calls: number[] = [];
    const spy: Ed25519Backend = async () => {
      calls.push(1);
      return true;
    };
    // The four Wycheproof cases S + L, S + 2L, S + 8L and S + 2^255 (docs/webhooks.md step 6).
    const malleated = wycheproof.tests.filter((t) => t.result === 'invalid' && t.signature.length === 128);
    expect(malleated).toHaveLength(4);
    for (const test of malleated) {
      expect(await verifyEd25519Strict(pk, bytes(test.signature), msg, spy)).toBe('non-canonical-s');
    }
    expect(calls).toEqual([]);
  });

  it('refuses S + L made from a valid Discord-style signature with 401-class reason non-canonical-s', async () => {
    const s = hexToScalar(discord.signature.slice(64));
    const malleated = discord.signature.slice(0, 64) + scalarToHex(s + ED25519_L);
    for (const [, backend] of BACKENDS) {
      expect(await verifyDiscordSignature(discordInput({ signatureHex: malleated }), backend)).toEqual({
        ok: false,
        reason: 'non-canonical-s',
      });
    }
  });
});

describe('Ed25519: WebCrypto and @noble/ed25519 give the same verdict on the same input', () => {
  const discordMessage = ed.etc.concatBytes(utf8(discord.timestamp), utf8(discord.body));
  const table: { name: string; pk: string; sig: string; msg: string; expected: string }[] = [
    ...rfc8032.tests.map((t) => ({ name: `RFC 8032 ${t.name}`, pk: t.publicKey, sig: t.signature, msg: t.message, expected: 'valid' })),
    ...rfc8032.tests.map((t) => ({
      name: `RFC 8032 ${t.name}, R flipped`,
      pk: t.publicKey,
      sig: flipHexByte(t.signature, 0),
      msg: t.message,
      expected: 'bad-signature',
    })),
    ...wycheproof.tests
      .filter((t) => t.signature.length === 128)
      .map((t) => ({
        name: `Wycheproof tcId ${t.tcId}`,
        pk: wycheproof.publicKey,
        sig: t.signature,
        msg: wycheproof.message,
        expected: t.result === 'valid' ? 'valid' : 'non-canonical-s',
      })),
    // speccheck 6, 7: S out of range; all others: small-order, mixed-order or non-canonical keys.
    ...speccheck.cases.map((c) => ({
      name: `speccheck ${c.index}`,
      pk: c.publicKey,
      sig: c.signature,
      msg: c.message,
      expected: c.index === 6 || c.index === 7 ? 'non-canonical-s' : 'unacceptable-public-key',
    })),
    {
      name: 'R with a small-order component (cofactored-only valid)',
      pk: discord.publicKey,
      sig: torsionedSignature(discordMessage),
      msg: bytesToHex(discordMessage),
      expected: 'bad-signature',
    },
  ];

  it.each(table)('$name → $expected on both paths', async (row) => {
    const verdicts = await Promise.all(
      BACKENDS.map(([, backend]) => verifyEd25519Strict(bytes(row.pk), bytes(row.sig), bytes(row.msg), backend)),
    );
    expect(verdicts).toEqual([row.expected, row.expected]);
  });

  it("needs its own cofactorless check: noble's stock cofactored verify accepts the torsioned R that WebCrypto refuses", async () => {
    const sig = bytes(torsionedSignature(discordMessage));
    const pk = bytes(discord.publicKey);
    expect(ed.verify(sig, discordMessage, pk, { zip215: false })).toBe(true);
    expect(await webCryptoEd25519(pk, sig, discordMessage)).toBe(false);
    expect(await nobleEd25519(pk, sig, discordMessage)).toBe(false);
  });
});

describe('verifyDiscordSignature (X-Signature-Ed25519 over timestamp ‖ raw body)', () => {
  it('uses WebCrypto by default where the runtime has Ed25519 (workerd does)', async () => {
    expect(await defaultEd25519Backend()).toBe(webCryptoEd25519);
    expect(await verifyDiscordSignature(discordInput())).toEqual({ ok: true });
  });

  for (const [name, backend] of BACKENDS) {
    it(`${name}: accepts the Discord-style PING vector, also with upper-case hex`, async () => {
      expect(await verifyDiscordSignature(discordInput(), backend)).toEqual({ ok: true });
      expect(await verifyDiscordSignature(discordInput({ signatureHex: discord.signature.toUpperCase() }), backend)).toEqual({ ok: true });
    });

    const otherKey = rfc8032.tests[1]!;
    const signedByOther = bytesToHex(ed.sign(ed.etc.concatBytes(utf8(discord.timestamp), utf8(discord.body)), bytes(otherKey.secretKey)));
    const attempts: [string, Partial<Parameters<typeof verifyDiscordSignature>[0]>, string][] = [
      ['missing signature header', { signatureHex: undefined }, 'missing-headers'],
      ['missing timestamp header', { timestamp: undefined }, 'missing-headers'],
      ['signature of 127 hex chars (odd length)', { signatureHex: discord.signature.slice(0, 127) }, 'malformed-signature'],
      ['signature of 129 hex chars', { signatureHex: `${discord.signature}0` }, 'malformed-signature'],
      ['signature of 126 hex chars', { signatureHex: discord.signature.slice(0, 126) }, 'malformed-signature'],
      ['signature with a non-hex char', { signatureHex: `${discord.signature.slice(0, 127)}g` }, 'malformed-signature'],
      ['the library test string', { signatureHex: 'example invalid signature' }, 'malformed-signature'],
      ['empty signature', { signatureHex: '' }, 'malformed-signature'],
      ['public key of 31 bytes', { publicKeyHex: discord.publicKey.slice(0, 62) }, 'malformed-public-key'],
      ['public key of 33 bytes', { publicKeyHex: `${discord.publicKey}00` }, 'malformed-public-key'],
      ['public key of odd length', { publicKeyHex: discord.publicKey.slice(0, 63) }, 'malformed-public-key'],
      ['non-numeric timestamp', { timestamp: 'abc' }, 'malformed-timestamp'],
      ['fractional timestamp', { timestamp: `${discord.timestamp}.5` }, 'malformed-timestamp'],
      ['negative timestamp', { timestamp: '-1' }, 'malformed-timestamp'],
      ['timestamp with whitespace', { timestamp: ` ${discord.timestamp}` }, 'malformed-timestamp'],
      ['exponent timestamp', { timestamp: '1.7e9' }, 'malformed-timestamp'],
      ['timestamp 301 s in the past', { now: DISCORD_NOW + 301_000 }, 'stale-timestamp'],
      ['timestamp 301 s in the future', { now: DISCORD_NOW - 301_000 }, 'stale-timestamp'],
      ['the library test: now − 10000 s', { now: DISCORD_NOW + 10_000_000 }, 'stale-timestamp'],
      ['signed by a different key', { signatureHex: signedByOther }, 'bad-signature'],
      ['body changed', { rawBody: utf8(discord.body.replace('"type":1', '"type":2')) }, 'bad-signature'],
      ['body with a trailing newline', { rawBody: utf8(`${discord.body}\n`) }, 'bad-signature'],
      ['timestamp changed by one second (still fresh)', { timestamp: String(Number(discord.timestamp) + 1) }, 'bad-signature'],
      ['signature byte flipped', { signatureHex: flipHexByte(discord.signature, 10) }, 'bad-signature'],
      ['a small-order public key', { publicKeyHex: `01${'00'.repeat(31)}` }, 'unacceptable-public-key'],
    ];
    it.each(attempts)(`${name}: %s → %s`, async (_label, overrides, reason) => {
      expect(await verifyDiscordSignature(discordInput(overrides), backend)).toEqual({ ok: false, reason });
    });

    it(`${name}: the 5-minute window is inclusive at exactly 300 s`, async () => {
      expect(await verifyDiscordSignature(discordInput({ now: DISCORD_NOW + 300_000 }), backend)).toEqual({ ok: true });
      expect(await verifyDiscordSignature(discordInput({ now: DISCORD_NOW - 300_000 }), backend)).toEqual({ ok: true });
    });
  }
});

describe("verifySlackSignature: Slack's documented example", () => {
  const NOW = Number(slack.timestamp) * 1000;
  const input = (overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) => ({
    signingSecret: slack.signingSecret,
    signatureHeader: slack.signature,
    timestampHeader: slack.timestamp,
    rawBody: utf8(slack.rawBody),
    now: NOW,
    ...overrides,
  });

  it('verifies with the clock injected at the documented timestamp', async () => {
    expect(slack.basestring).toBe(`v0:${slack.timestamp}:${slack.rawBody}`);
    expect(await verifySlackSignature(input())).toEqual({ ok: true });
  });

  const oneByteChanged: [string, Partial<Parameters<typeof verifySlackSignature>[0]>, string][] = [
    ['last body byte changed', { rawBody: utf8(`${slack.rawBody.slice(0, -1)}d`) }, 'bad-signature'],
    ['first body byte changed', { rawBody: utf8(`T${slack.rawBody.slice(1)}`) }, 'bad-signature'],
    ['body with "------" appended (python-slack-sdk)', { rawBody: utf8(`${slack.rawBody}------`) }, 'bad-signature'],
    ['one signature hex digit changed', { signatureHeader: `${slack.signature.slice(0, -1)}4` }, 'bad-signature'],
    ['timestamp changed by one second', { timestampHeader: String(Number(slack.timestamp) + 1) }, 'bad-signature'],
    ['signing secret changed by one byte', { signingSecret: `${slack.signingSecret.slice(0, -1)}6` }, 'bad-signature'],
  ];
  it.each(oneByteChanged)('fails with %s', async (_label, overrides, reason) => {
    expect(await verifySlackSignature(input(overrides))).toEqual({ ok: false, reason });
  });

  const attempts: [string, Partial<Parameters<typeof verifySlackSignature>[0]>, string][] = [
    ['the real clock (years later)', { now: Date.now() }, 'stale-timestamp'],
    ['timestamp 301 s ahead of the clock', { now: NOW - 301_000 }, 'stale-timestamp'],
    ['non-numeric timestamp', { timestampHeader: 'yesterday' }, 'malformed-timestamp'],
    ['timestamp with a sign', { timestampHeader: `+${slack.timestamp}` }, 'malformed-timestamp'],
    ['missing signature', { signatureHeader: undefined }, 'missing-headers'],
    ['missing timestamp', { timestampHeader: undefined }, 'missing-headers'],
    ['signature version v1', { signatureHeader: slack.signature.replace('v0=', 'v1=') }, 'unknown-signature-version'],
    ['signature without version', { signatureHeader: slack.signature.slice(3) }, 'malformed-signature'],
    ['signature one hex char short', { signatureHeader: slack.signature.slice(0, -1) }, 'malformed-signature'],
    ['signature with trailing space', { signatureHeader: `${slack.signature} ` }, 'malformed-signature'],
    ['empty signing secret', { signingSecret: '' }, 'not-configured'],
    ['whitespace signing secret', { signingSecret: '   ' }, 'not-configured'],
  ];
  it.each(attempts)('refuses %s', async (_label, overrides, reason) => {
    expect(await verifySlackSignature(input(overrides))).toEqual({ ok: false, reason });
  });

  it('accepts exactly 300 s of skew either way', async () => {
    expect(await verifySlackSignature(input({ now: NOW + 300_000 }))).toEqual({ ok: true });
    expect(await verifySlackSignature(input({ now: NOW - 300_000 }))).toEqual({ ok: true });
  });
});

describe('verifyTelegramSecret (X-Telegram-Bot-Api-Secret-Token)', () => {
  const SECRET = 'Abc_def-0123456789xyzXYZ';
  it('accepts the exact token', async () => {
    expect(await verifyTelegramSecret(SECRET, SECRET)).toEqual({ ok: true });
    expect(await verifyTelegramSecret('a'.repeat(256), 'a'.repeat(256))).toEqual({ ok: true });
  });

  it.each([
    ['missing', undefined, 'missing-secret'],
    ['empty', '', 'missing-secret'],
    ['wrong', 'Zzz_def-0123456789xyzXYZ', 'wrong-secret'],
    ['right but lower-cased', SECRET.toLowerCase(), 'wrong-secret'],
    ['right but upper-cased', SECRET.toUpperCase(), 'wrong-secret'],
    ['a prefix of the right one', SECRET.slice(0, -1), 'wrong-secret'],
    ['the right one plus a suffix', `${SECRET}x`, 'wrong-secret'],
    ['the right one with whitespace', ` ${SECRET}`, 'wrong-secret'],
  ] as const)('refuses a %s token', async (_label, header, reason) => {
    expect(await verifyTelegramSecret(SECRET, header)).toEqual({ ok: false, reason });
  });

  it.each([undefined, '', 'has space', 'a'.repeat(257), 'dots.are.not.allowed'])(
    'fails closed when the configured token is invalid (%s)',
    async (expected) => {
      expect(await verifyTelegramSecret(expected, expected ?? 'x')).toEqual({ ok: false, reason: 'not-configured' });
    },
  );
});
