import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/http';
import { utf8 } from '../../src/lib';
import {
  aesGcmOpen,
  HKDF_INFO_PREFIX,
  HKDF_SALT,
  keyringFor,
  parseEnvelope,
  parseKeyring,
  requireVault,
  sealEnvelope,
  openEnvelope,
  type SecretRef,
  envelopeAad,
} from '../../src/vault';
import { decodeBase64, encodeBase64 } from '../../src/lib';
import { K1, K2 } from './vault-support';

const KEY32 = encodeBase64(new Uint8Array(32).fill(7));
const KEY64 = encodeBase64(new Uint8Array(64).fill(9));

afterEach(() => vi.restoreAllMocks());

describe('keyring parsing (VAULT_KEYS)', () => {
  it.each([
    { name: 'unset', raw: undefined, problem: { kind: 'keyring-missing' } },
    { name: 'empty', raw: '', problem: { kind: 'keyring-missing' } },
    { name: 'whitespace only', raw: ' \n', problem: { kind: 'keyring-missing' } },
    { name: 'no colon', raw: 'k1', problem: { kind: 'keyring-malformed', entry: 0, reason: 'missing-separator' } },
    { name: 'bare base64, no id', raw: KEY32, problem: { kind: 'keyring-malformed', entry: 0, reason: 'missing-separator' } },
    { name: 'empty id', raw: `:${KEY32}`, problem: { kind: 'keyring-malformed', entry: 0, reason: 'bad-key-id' } },
    {
      name: 'id with a dot (envelope separator)',
      raw: `k.1:${KEY32}`,
      problem: { kind: 'keyring-malformed', entry: 0, reason: 'bad-key-id' },
    },
    {
      name: 'id longer than 32',
      raw: `${'k'.repeat(33)}:${KEY32}`,
      problem: { kind: 'keyring-malformed', entry: 0, reason: 'bad-key-id' },
    },
    { name: 'trailing comma', raw: `k1:${KEY32},`, problem: { kind: 'keyring-malformed', entry: 1, reason: 'empty-entry' } },
    { name: 'leading comma', raw: `,k1:${KEY32}`, problem: { kind: 'keyring-malformed', entry: 0, reason: 'empty-entry' } },
    { name: 'not base64', raw: 'k1:not*base64!', problem: { kind: 'keyring-malformed', entry: 0, reason: 'bad-base64' } },
    { name: 'empty key', raw: 'k1:', problem: { kind: 'keyring-malformed', entry: 0, reason: 'bad-base64' } },
    {
      name: 'base64 without padding',
      raw: `k1:${KEY32.replace(/=+$/, '')}`,
      problem: { kind: 'keyring-malformed', entry: 0, reason: 'bad-base64' },
    },
    {
      name: 'base64url alphabet',
      raw: `k1:${encodeBase64(new Uint8Array(32).fill(0xfb)).replace(/\//g, '_')}`,
      problem: { kind: 'keyring-malformed', entry: 0, reason: 'bad-base64' },
    },
    { name: 'duplicate id', raw: `k1:${KEY32},k1:${KEY64}`, problem: { kind: 'keyring-malformed', entry: 1, reason: 'duplicate-key-id' } },
    { name: '31-byte key', raw: `k1:${encodeBase64(new Uint8Array(31))}`, problem: { kind: 'key-too-short', keyId: 'k1', bytes: 31 } },
    {
      name: '16-byte key (AES-128 size)',
      raw: `k2:${KEY32},k1:${encodeBase64(new Uint8Array(16))}`,
      problem: { kind: 'key-too-short', keyId: 'k1', bytes: 16 },
    },
  ])('refuses $name', async ({ raw, problem }) => {
    const parsed = await parseKeyring(raw);
    expect(parsed).toEqual({ ok: false, problem });
    // The problem never carries key material.
    expect(JSON.stringify(parsed)).not.toContain(KEY32.slice(0, 12));
  });

  it('accepts 32- and 64-byte keys and whitespace around entries; the first key is active', async () => {
    const parsed = await parseKeyring(` k2:${KEY64} ,\n k1:${KEY32}\n`);
    expect(parsed.ok && { active: parsed.value.activeKeyId, ids: parsed.value.keyIds }).toEqual({ active: 'k2', ids: ['k2', 'k1'] });
  });

  it('parses once per isolate for a given VAULT_KEYS value', async () => {
    const first = keyringFor(K1);
    expect(keyringFor(K1)).toBe(first);
    const other = keyringFor(`${K2},${K1}`);
    expect(other).not.toBe(first);
  });
});

describe('per-workspace data keys (HKDF-SHA256)', () => {
  const ref: SecretRef = { workspaceId: 'ws_a', ownerKind: 'credential', ownerId: 'ws_a', name: 'API_KEY' };

  it('derives the data key exactly as documented: HKDF-SHA256(key, salt, prefix || workspaceId)', async () => {
    const parsed = await parseKeyring(K1);
    if (!parsed.ok) throw new Error('keyring');
    const envelope = await sealEnvelope(parsed.value, ref, 'documented-derivation');
    const ikm = decodeBase64(K1.slice(3));
    if (!ikm) throw new Error('key');
    const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: utf8(HKDF_SALT), info: utf8(`${HKDF_INFO_PREFIX}ws_a`) },
      base,
      256,
    );
    const key = await crypto.subtle.importKey('raw', bits, 'AES-GCM', false, ['decrypt']);
    const parts = parseEnvelope(envelope);
    if (!parts.ok) throw new Error('envelope');
    const plain = await aesGcmOpen(key, parts.value.nonce, parts.value.sealed, envelopeAad(ref));
    expect(plain && new TextDecoder().decode(plain)).toBe('documented-derivation');
  });

  it("never uses one workspace's key for another: same envelope, other workspace id → decrypt-failed", async () => {
    const parsed = await parseKeyring(K1);
    if (!parsed.ok) throw new Error('keyring');
    const envelope = await sealEnvelope(parsed.value, ref, 'value');
    const other = { ...ref, workspaceId: 'ws_b', ownerId: 'ws_b' };
    expect(await openEnvelope(parsed.value, other, envelope)).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
  });
});

describe('requireVault (what credential routes call first)', () => {
  it.each([
    { name: 'missing', keys: undefined, expectLog: /VAULT_KEYS is not set/ },
    { name: 'malformed', keys: 'k1', expectLog: /entry 0 is malformed \(missing-separator\)/ },
    { name: 'short key', keys: `k1:${encodeBase64(new Uint8Array(24).fill(5))}`, expectLog: /key k1 is 24 bytes; at least 32/ },
  ])('refuses with 503 SERVICE_UNAVAILABLE and logs why when the keyring is $name', async ({ keys, expectLog }) => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const error = await requireVault({ DB: env.DB, VAULT_KEYS: keys }, 'req-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('SERVICE_UNAVAILABLE');
    expect((error as ApiError).status).toBe(503);
    expect((error as ApiError).message).toBe('Service unavailable.');
    const logged = log.mock.calls.map((call) => String(call[0])).join('\n');
    expect(logged).toMatch(expectLog);
    expect(logged).toContain('req-1');
    if (keys) expect(logged).not.toContain(keys.slice(3, 15) || '\u0000');
  });

  it('returns a ready vault when the keyring is valid', async () => {
    const vault = await requireVault({ DB: env.DB, VAULT_KEYS: `${K2},${K1}` });
    expect(vault.keyring.activeKeyId).toBe('k2');
  });
});
