import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import {
  aesGcmOpen,
  aesGcmSeal,
  envelopeAad,
  importAesGcmKey,
  openEnvelope,
  openSecret,
  parseKeyring,
  sealEnvelope,
  sealSecret,
  type SecretRef,
} from '../../src/vault';
import { measure, report } from './harness';

const KEYS = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
const WORKSPACE = 'ws_bench';
const REF: SecretRef = { workspaceId: WORKSPACE, ownerKind: 'credential', ownerId: WORKSPACE, name: 'GITHUB_TOKEN' };

async function setup() {
  await env.DB.prepare('INSERT OR IGNORE INTO workspaces (id, name, created_at) VALUES (?, ?, 0)').bind(WORKSPACE, 'bench').run();
  const keyring = await parseKeyring(KEYS);
  if (!keyring.ok) throw new Error(keyring.problem.kind);
  // The raw baseline: one AES-256-GCM key, a fresh nonce per call, the same AAD size.
  const rawKey = await importAesGcmKey(new Uint8Array(32).fill(1));
  return { keyring: keyring.value, rawKey, aad: envelopeAad(REF) };
}

for (const size of [40, 16 * 1024]) {
  it(`vault: seal and open of a ${size}-byte secret against raw WebCrypto AES-GCM`, async () => {
    const { keyring, rawKey, aad } = await setup();
    const value = 'x'.repeat(size);
    const plaintext = new TextEncoder().encode(value);
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const sealedRaw = await aesGcmSeal(rawKey, nonce, plaintext, aad);
    const envelope = await sealEnvelope(keyring, REF, value);
    const bindings = { DB: env.DB, VAULT_KEYS: KEYS };
    await sealSecret(bindings, REF, value, { now: 0 });

    const rawEncrypt = await measure('raw crypto.subtle.encrypt AES-GCM', () =>
      crypto.subtle.encrypt({ name: 'AES-GCM', iv: crypto.getRandomValues(new Uint8Array(12)), additionalData: aad }, rawKey, plaintext),
    );
    const seal = await measure('sealEnvelope (derived key cached, nonce, AAD, b64url)', () => sealEnvelope(keyring, REF, value));
    const sealStored = await measure('sealSecret (envelope + D1 upsert)', () => sealSecret(bindings, REF, value, { now: 1 }));
    report(`vault-seal-${size}B`, rawEncrypt, [seal, sealStored], { plaintextBytes: size });

    const rawDecrypt = await measure('raw crypto.subtle.decrypt AES-GCM', () =>
      crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, rawKey, sealedRaw),
    );
    const open = await measure('openEnvelope (parse, derived key cached, UTF-8)', () => openEnvelope(keyring, REF, envelope));
    const openStored = await measure('openSecret (D1 select + envelope)', () => openSecret(bindings, REF));
    report(`vault-open-${size}B`, rawDecrypt, [open, openStored], { plaintextBytes: size });

    expect((await openEnvelope(keyring, REF, envelope)).ok).toBe(true);
    expect(await aesGcmOpen(rawKey, nonce, sealedRaw, aad)).not.toBeNull();
  });
}

it('vault: first-use costs (keyring parse, per-workspace HKDF derivation) against raw AES-GCM encrypt', async () => {
  const { rawKey, aad } = await setup();
  const plaintext = new Uint8Array(40);
  const rawEncrypt = await measure('raw crypto.subtle.encrypt AES-GCM (40 B)', () =>
    crypto.subtle.encrypt({ name: 'AES-GCM', iv: crypto.getRandomValues(new Uint8Array(12)), additionalData: aad }, rawKey, plaintext),
  );
  const parse = await measure('parseKeyring (2 keys, uncached)', () => parseKeyring(`k2:${btoa('y'.repeat(32))},${KEYS}`));
  const keyring = await parseKeyring(KEYS);
  if (!keyring.ok) throw new Error('keyring');
  let n = 0;
  const derive = await measure('HKDF data key for a new workspace (uncached)', () => keyring.value.dataKey('k1', `ws_${n++}`));
  report('vault-first-use', rawEncrypt, [parse, derive]);
  expect(derive.iterations).toBeGreaterThan(0);
});
