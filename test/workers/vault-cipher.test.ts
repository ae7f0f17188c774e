import { describe, expect, it } from 'vitest';
import vectorsText from '../fixtures/aes-256-gcm-vectors.md?raw';
import { bytesToHex, hexToBytes } from '../../src/lib';
import { aesGcmOpen, aesGcmSeal, importAesGcmKey } from '../../src/vault';

/** Published values, read out of the fixture text so they stay byte for byte as published. */
function hex(value: string | undefined): Uint8Array {
  const bytes = value === undefined ? null : hexToBytes(value);
  if (!bytes) throw new Error(`fixture: not hex: ${value}`);
  return bytes;
}

/** `NAME = \`hex\`` or `NAME = (empty)` pairs of one block of the fixture. */
function fields(block: string, names: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of block.matchAll(new RegExp(`\\b(${names})\\s*=?\\s*(?:\`([0-9a-f]*)\`|\\(empty\\))`, 'g'))) {
    const [, name, value = ''] = m;
    if (name && !(name in out)) out[name] = value;
  }
  return out;
}

const mcgrewViega = [13, 14, 15, 16].map((n) => {
  const start = vectorsText.indexOf(`Test Case ${n} (`);
  const end = vectorsText.indexOf('\n\n', start);
  const f = fields(vectorsText.slice(start, end), 'K|IV|P|A|C|T');
  return { n, key: hex(f.K), iv: hex(f.IV), plaintext: hex(f.P), aad: hex(f.A), ciphertext: hex(f.C), tag: hex(f.T) };
});

const family = fields(vectorsText.slice(vectorsText.indexOf('Modified-tag family')), 'key|iv|aad|msg|ct');
const correctTag = /The correct tag \(computed locally from these inputs\) is `([0-9a-f]{32})`/.exec(vectorsText)?.[1];
const modifiedTags = [...vectorsText.matchAll(/- tcId (\d+) "([^"]+)": `([0-9a-f]{32})`/g)].map(([, id, label, tag]) => ({
  id,
  label,
  tag: hex(tag),
}));
const validWycheproof = [91, 92].map((id) => {
  const start = vectorsText.indexOf(`- tcId ${id}:`);
  const f = fields(vectorsText.slice(start, vectorsText.indexOf('\n- ', start + 1)), 'key|iv|aad|msg|ct|tag');
  return { id, key: hex(f.key), iv: hex(f.iv), aad: hex(f.aad), msg: hex(f.msg), ct: hex(f.ct), tag: hex(f.tag) };
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] = (out[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return out;
}

describe('fixture parsing (guards against a silently empty table)', () => {
  it('reads 4 McGrew–Viega cases, the Wycheproof family and its 4 modified tags', () => {
    expect(mcgrewViega.map((v) => [v.n, v.key.length, v.iv.length, v.tag.length])).toEqual([
      [13, 32, 12, 16],
      [14, 32, 12, 16],
      [15, 32, 12, 16],
      [16, 32, 12, 16],
    ]);
    expect(mcgrewViega[3]?.aad.length).toBe(20);
    expect(modifiedTags.map((t) => t.id)).toEqual(['130', '152', '153', '154']);
    expect(family.key?.length).toBe(64);
    expect(correctTag).toHaveLength(32);
    expect(validWycheproof.map((v) => v.key.length)).toEqual([32, 32]);
  });
});

describe('AES-256-GCM against McGrew–Viega test cases 13–16', () => {
  it.each(mcgrewViega)('test case $n: seals to C || T and opens back to P', async ({ key, iv, plaintext, aad, ciphertext, tag }) => {
    const cryptoKey = await importAesGcmKey(key);
    const sealed = await aesGcmSeal(cryptoKey, iv, plaintext, aad);
    expect(bytesToHex(sealed)).toBe(bytesToHex(concat(ciphertext, tag)));
    const opened = await aesGcmOpen(cryptoKey, iv, sealed, aad);
    expect(opened && bytesToHex(opened)).toBe(bytesToHex(plaintext));
  });
});

describe('AES-256-GCM against Wycheproof aes_gcm_test.json', () => {
  it.each(validWycheproof)('tcId $id (valid) seals and opens', async ({ key, iv, aad, msg, ct, tag }) => {
    const cryptoKey = await importAesGcmKey(key);
    expect(bytesToHex(await aesGcmSeal(cryptoKey, iv, msg, aad))).toBe(bytesToHex(concat(ct, tag)));
    expect(bytesToHex((await aesGcmOpen(cryptoKey, iv, concat(ct, tag), aad)) ?? new Uint8Array([0xff]))).toBe(bytesToHex(msg));
  });

  it('the modified-tag family seals to the correct tag', async () => {
    const key = await importAesGcmKey(hex(family.key));
    const sealed = await aesGcmSeal(key, hex(family.iv), hex(family.msg), hex(family.aad));
    expect(bytesToHex(sealed)).toBe(`${family.ct}${correctTag}`);
  });

  it.each(modifiedTags)('tcId $id "$label" is refused (ModifiedTag: the whole tag is checked)', async ({ tag }) => {
    const key = await importAesGcmKey(hex(family.key));
    expect(await aesGcmOpen(key, hex(family.iv), concat(hex(family.ct), tag), hex(family.aad))).toBeNull();
  });

  it('refuses a zero-length IV (tcId 315, CVE-2017-7822) and the non-96-bit IV of McGrew–Viega case 17', async () => {
    const key = await importAesGcmKey(new Uint8Array(32));
    const sealed = hex('1726aa695fbaa21a1db88455c670a4b0');
    expect(await aesGcmOpen(key, new Uint8Array(0), sealed, new Uint8Array(0))).toBeNull();
    await expect(aesGcmSeal(key, new Uint8Array(0), new Uint8Array(1), new Uint8Array(0))).rejects.toThrow(RangeError);
    await expect(aesGcmSeal(key, hex('cafebabefacedbad'), new Uint8Array(1), new Uint8Array(0))).rejects.toThrow(RangeError);
  });

  it('refuses a ciphertext shorter than the tag', async () => {
    const key = await importAesGcmKey(new Uint8Array(32));
    expect(await aesGcmOpen(key, new Uint8Array(12), new Uint8Array(15), new Uint8Array(0))).toBeNull();
  });
});

describe('a single flipped bit anywhere fails authentication (test case 16 inputs)', () => {
  const tc16 = mcgrewViega[3];
  if (!tc16) throw new Error('fixture: test case 16 missing');
  const sealedBits = (tc16.ciphertext.length + tc16.tag.length) * 8;
  const attempts = [
    ...[0, 7, 50, 95].map((bit) => ({ part: 'nonce', bit })),
    ...[0, 9, 200, tc16.ciphertext.length * 8 - 1].map((bit) => ({ part: 'ciphertext', bit })),
    ...[tc16.ciphertext.length * 8, tc16.ciphertext.length * 8 + 64, sealedBits - 1].map((bit) => ({ part: 'tag', bit })),
    ...[0, 80, 159].map((bit) => ({ part: 'aad', bit })),
  ];

  it.each(attempts)('bit $bit of the $part', async ({ part, bit }) => {
    const key = await importAesGcmKey(tc16.key);
    const sealed = concat(tc16.ciphertext, tc16.tag);
    const opened = await aesGcmOpen(
      key,
      part === 'nonce' ? flipBit(tc16.iv, bit) : tc16.iv,
      part === 'ciphertext' || part === 'tag' ? flipBit(sealed, bit) : sealed,
      part === 'aad' ? flipBit(tc16.aad, bit) : tc16.aad,
    );
    expect(opened).toBeNull();
    // Control: the unflipped inputs open.
    expect(await aesGcmOpen(key, tc16.iv, sealed, tc16.aad)).not.toBeNull();
  });
});
