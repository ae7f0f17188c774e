import { describe, expect, it } from 'vitest';
import { maskSecret, openEnvelope, parseKeyring, sealEnvelope, type Keyring, type SecretRef } from '../../src/vault';
import { decodeBase64Url, encodeBase64Url } from '../../src/lib';
import { K1, K2 } from './vault-support';

async function keyring(raw: string): Promise<Keyring> {
  const parsed = await parseKeyring(raw);
  if (!parsed.ok) throw new Error(`test keyring: ${parsed.problem.kind}`);
  return parsed.value;
}

const HOME: SecretRef = { workspaceId: 'ws_home', ownerKind: 'credential', ownerId: 'ws_home', name: 'GITHUB_TOKEN' };

describe('envelope format', () => {
  it('is v1.<keyId>.<96-bit nonce b64url>.<ciphertext+tag b64url> and opens back', async () => {
    const ring = await keyring(K1);
    const envelope = await sealEnvelope(ring, HOME, 'ghp_secret-value');
    expect(envelope).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    const [, , nonce = '', sealed = ''] = envelope.split('.');
    expect(decodeBase64Url(nonce)?.length).toBe(12);
    expect(decodeBase64Url(sealed)?.length).toBe('ghp_secret-value'.length + 16);
    expect(await openEnvelope(ring, HOME, envelope)).toEqual({ ok: true, value: { plaintext: 'ghp_secret-value', keyId: 'k1' } });
  });

  it('uses a fresh random nonce for every seal of the same value', async () => {
    const ring = await keyring(K1);
    const envelopes = await Promise.all(Array.from({ length: 20 }, () => sealEnvelope(ring, HOME, 'same')));
    expect(new Set(envelopes.map((e) => e.split('.')[2])).size).toBe(20);
  });

  it('round-trips empty, multi-byte and 16 KiB values exactly', async () => {
    const ring = await keyring(K1);
    for (const value of ['', '\uFEFFbom kept', 'pässwörd 🔑', 'x'.repeat(16 * 1024)]) {
      const opened = await openEnvelope(ring, HOME, await sealEnvelope(ring, HOME, value));
      expect(opened.ok && opened.value.plaintext).toBe(value);
    }
  });
});

describe('an envelope moved to another place fails to open (AAD binding)', () => {
  it.each([
    { moved: 'another workspace', ref: { ...HOME, workspaceId: 'ws_other' } },
    { moved: 'another workspace with the same owner id', ref: { ...HOME, workspaceId: 'ws_other', ownerId: 'ws_other' } },
    { moved: 'another name', ref: { ...HOME, name: 'SLACK_TOKEN' } },
    { moved: 'another owner id', ref: { ...HOME, ownerId: 'con_1' } },
    { moved: 'another owner kind', ref: { ...HOME, ownerKind: 'connector' as const } },
    { moved: 'a name differing only in case', ref: { ...HOME, name: 'github_token' } },
  ])('$moved → decrypt-failed', async ({ ref }) => {
    const ring = await keyring(K1);
    const envelope = await sealEnvelope(ring, HOME, 'bound-value');
    expect(await openEnvelope(ring, ref, envelope)).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
    expect((await openEnvelope(ring, HOME, envelope)).ok).toBe(true); // control
  });
});

describe('envelopes that must never open or be read as plaintext', () => {
  it.each([
    { what: 'a plaintext token stored in the column', text: () => 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', kind: 'unknown-version' },
    { what: 'an empty column', text: () => '', kind: 'unknown-version' },
    { what: 'version v2', text: (e: string) => e.replace(/^v1\./, 'v2.'), kind: 'unknown-version' },
    { what: 'version V1 (case)', text: (e: string) => e.replace(/^v1\./, 'V1.'), kind: 'unknown-version' },
    { what: 'a fifth part', text: (e: string) => `${e}.AAAA`, kind: 'envelope-malformed' },
    { what: 'three parts', text: (e: string) => e.split('.').slice(0, 3).join('.'), kind: 'envelope-malformed' },
    {
      what: 'a nonce of 8 bytes',
      text: (e: string) => e.replace(/^(v1\.k1\.)[^.]+/, `$1${encodeBase64Url(new Uint8Array(8))}`),
      kind: 'envelope-malformed',
    },
    { what: 'standard base64 characters', text: (e: string) => `${e.slice(0, -2)}+/`, kind: 'envelope-malformed' },
    { what: 'padding', text: (e: string) => `${e}=`, kind: 'envelope-malformed' },
    {
      what: 'ciphertext shorter than a tag',
      text: (e: string) => e.replace(/[^.]+$/, encodeBase64Url(new Uint8Array(15))),
      kind: 'envelope-malformed',
    },
    { what: 'an unknown key id', text: (e: string) => e.replace(/^v1\.k1\./, 'v1.k9.'), kind: 'unknown-key' },
    { what: 'the key id of another key in the ring', text: (e: string) => e.replace(/^v1\.k1\./, 'v1.k2.'), kind: 'decrypt-failed' },
  ])('$what → $kind', async ({ text, kind }) => {
    const ring = await keyring(`${K1},${K2}`);
    const envelope = await sealEnvelope(ring, HOME, 'value');
    const opened = await openEnvelope(ring, HOME, text(envelope));
    expect(opened.ok).toBe(false);
    expect(!opened.ok && opened.problem.kind).toBe(kind);
  });

  it('a flipped bit in the nonce, ciphertext or tag part of a stored envelope → decrypt-failed', async () => {
    const ring = await keyring(K1);
    const envelope = await sealEnvelope(ring, HOME, 'a secret worth 32 bytes or so...');
    const [version, keyId, nonceText = '', sealedText = ''] = envelope.split('.');
    const nonce = decodeBase64Url(nonceText) ?? new Uint8Array();
    const sealed = decodeBase64Url(sealedText) ?? new Uint8Array();
    const flip = (bytes: Uint8Array, index: number) => Object.assign(bytes.slice(), { [index]: (bytes[index] ?? 0) ^ 0x01 });
    const variants = [
      `${version}.${keyId}.${encodeBase64Url(flip(nonce, 0))}.${sealedText}`,
      `${version}.${keyId}.${encodeBase64Url(flip(nonce, 11))}.${sealedText}`,
      `${version}.${keyId}.${nonceText}.${encodeBase64Url(flip(sealed, 0))}`,
      `${version}.${keyId}.${nonceText}.${encodeBase64Url(flip(sealed, sealed.length - 17))}`,
      `${version}.${keyId}.${nonceText}.${encodeBase64Url(flip(sealed, sealed.length - 1))}`,
    ];
    for (const variant of variants)
      expect(await openEnvelope(ring, HOME, variant)).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
  });
});

describe('masking', () => {
  it.each([
    ['a', '••••'],
    ['abcd', '••••'],
    ['abcdefghijk', '••••'], // 11 characters: fully masked
    ['abcdefghijkl', '••••ijkl'], // 12: last 4 shown
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', '••••6789'],
    ['🔑🔑🔑🔑🔑🔑🔑🔑secret', '••••cret'],
    ['0123456789ab🔑🔑🔑🔑', '••••🔑🔑🔑🔑'], // code points, never half a surrogate pair
  ])('%s → %s', (value, masked) => {
    expect(maskSecret(value)).toBe(masked);
  });
});

describe('strict base64 (one spelling per byte string)', () => {
  it.each([
    ['AB', 'unused bits set in the last character (canonical is AA)'],
    ['AAAAA', 'impossible length'],
    ['AA==', 'padding'],
    ['AA AA', 'whitespace'],
    ['AAA AAAA', 'whitespace at a valid length'],
    ['AA\nA', 'a newline'],
    ['AAA=', 'padding that completes a chunk'],
    ['AA=', 'a stray padding character'],
    ['AA+/', 'standard alphabet'],
  ])('base64url %s is refused: %s', (text) => {
    expect(decodeBase64Url(text)).toBeNull();
  });

  it('accepts canonical unpadded base64url', () => {
    expect(Array.from(decodeBase64Url('AA') ?? [])).toEqual([0]);
    expect(Array.from(decodeBase64Url('-_8') ?? [])).toEqual([0xfb, 0xff]);
    expect(encodeBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });
});
