import { describe, expect, it } from 'vitest';
import { REDACTED } from '../../src/lib';
import { redactSecrets, sealSecret, secretByteScrubber, secretForms, workspaceRedactor } from '../../src/vault';
import { encodeBase64, encodeBase64Url } from '../../src/lib';
import { K1, newWorkspace, T0, withKeys } from './vault-support';

const SECRET = 'sk_live_Zq8/Wm+3p?x=1&y "quoted" \\ end';
const b64 = (text: string) => encodeBase64(new TextEncoder().encode(text));

describe('redactSecrets', () => {
  it.each([
    { form: 'the literal value, twice', text: `a ${SECRET} b ${SECRET} c` },
    { form: 'JSON-escaped inside JSON text', text: JSON.stringify({ header: `X ${SECRET} Y` }) },
    { form: 'encodeURIComponent (query string)', text: `https://api.example.com/?token=${encodeURIComponent(SECRET)}&x=1` },
    {
      form: 'encodeURIComponent with lower-case hex',
      text: `?t=${encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
    },
    { form: 'form encoding (spaces as +)', text: `body=${new URLSearchParams({ v: SECRET }).toString().slice(2)}` },
    { form: 'base64 of the value alone', text: `data: ${b64(SECRET)}`, encoded: true },
    { form: 'base64url of the value alone', text: `jwt-part.${encodeBase64Url(new TextEncoder().encode(SECRET))}.x`, encoded: true },
    { form: 'Basic auth, user of 1 byte (alignment 2)', text: `Authorization: Basic ${b64(`u:${SECRET}`)}`, encoded: true },
    { form: 'base64 with a 3-byte prefix (alignment 0)', text: b64(`ab:${SECRET}:tail`), encoded: true },
    { form: 'base64 with a 4-byte prefix (alignment 1)', text: b64(`abc:${SECRET}:tail`), encoded: true },
    { form: 'base64 with a 5-byte prefix (alignment 2)', text: b64(`abcd:${SECRET}:tail`), encoded: true },
  ])('removes $form', ({ text, encoded }) => {
    const out = redactSecrets(text, [SECRET]);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(SECRET);
    // No run of 6+ characters of the secret survives in any form we encoded.
    for (const probe of [SECRET.slice(3, 15), encodeURIComponent(SECRET).slice(3, 20)]) expect(out).not.toContain(probe);
    // Encoded forms: all but at most 2 bytes at each end of the 38-byte secret (≈52 base64 characters) went.
    if (encoded) expect(out.length).toBeLessThanOrEqual(text.length - 48 + REDACTED.length);
  });

  it('handles one secret inside another (longest first) and leaves other text alone', () => {
    const out = redactSecrets('key=abcdefgh-long-secret and abcdefgh and ordinary words', ['abcdefgh', 'abcdefgh-long-secret']);
    expect(out).toBe(`key=${REDACTED} and ${REDACTED} and ordinary words`);
  });

  it('does not search for secrets shorter than 4 characters (they would erase ordinary words)', () => {
    expect(redactSecrets('a cat sat on the mat', ['at', 'cat'])).toBe('a cat sat on the mat');
    expect(redactSecrets('pin 4821 used', ['4821'])).toBe(`pin ${REDACTED} used`);
  });

  it('returns the text unchanged when there are no secrets', () => {
    expect(redactSecrets('nothing to hide', [])).toBe('nothing to hide');
  });
});

describe('workspaceRedactor', () => {
  it("removes every secret the workspace holds (credentials and connector secrets) and the common token shapes, not another workspace's", async () => {
    const ws = await newWorkspace();
    const other = await newWorkspace('other');
    const vault = withKeys(K1);
    await sealSecret(vault, { workspaceId: ws, ownerKind: 'credential', ownerId: ws, name: 'PROVIDER_KEY' }, 'provider-key-plaintext-1', {
      now: T0,
    });
    await sealSecret(
      vault,
      { workspaceId: ws, ownerKind: 'connector', ownerId: 'con_1', name: 'SIGNING_SECRET' },
      'signing-secret-plaintext-2',
      { now: T0 },
    );
    await sealSecret(
      vault,
      { workspaceId: other, ownerKind: 'credential', ownerId: other, name: 'PROVIDER_KEY' },
      'other-workspace-value-3',
      { now: T0 },
    );

    const redactor = workspaceRedactor(vault, ws);
    const text = [
      'tool said provider-key-plaintext-1',
      `sig=${encodeURIComponent('signing-secret-plaintext-2')}`,
      'Authorization: Bearer eyJhbGciOi.abc.def',
      'pcl_4xQ9bL2mN7pR1sT5vW8yZ0aC3dF6gH9jK2mN5pQ8rS1',
      'AKIAIOSFODNN7EXAMPLE',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
      'other-workspace-value-3',
    ].join('\n');
    const out = await redactor.redact(text);
    expect(out.ok).toBe(true);
    const redacted = out.ok ? out.value : '';
    for (const gone of [
      'provider-key-plaintext-1',
      'signing-secret-plaintext-2',
      'eyJhbGciOi.abc.def',
      'pcl_4xQ9',
      'AKIAIOSFODNN7EXAMPLE',
      'MIIEow',
    ]) {
      expect(redacted).not.toContain(gone);
    }
    expect(redacted).toContain('Authorization: Bearer [REDACTED]');
    // The other workspace's value is not this workspace's secret: redaction is per workspace.
    expect(redacted).toContain('other-workspace-value-3');
  });

  it('loads the secrets once per redactor (one per request): a secret added later needs a new redactor', async () => {
    const ws = await newWorkspace();
    const vault = withKeys(K1);
    const redactor = workspaceRedactor(vault, ws);
    expect(await redactor.redact('late-secret-value-4')).toEqual({ ok: true, value: 'late-secret-value-4' });
    await sealSecret(vault, { workspaceId: ws, ownerKind: 'credential', ownerId: ws, name: 'LATE' }, 'late-secret-value-4', { now: T0 });
    expect(await redactor.redact('late-secret-value-4')).toEqual({ ok: true, value: 'late-secret-value-4' });
    expect(await workspaceRedactor(vault, ws).redact('late-secret-value-4')).toEqual({ ok: true, value: REDACTED });
  });

  it('reports a broken keyring instead of returning unredacted text', async () => {
    const ws = await newWorkspace();
    expect(await workspaceRedactor(withKeys('nonsense'), ws).redact('anything')).toEqual({
      ok: false,
      problem: { kind: 'keyring-malformed', entry: 0, reason: 'missing-separator' },
    });
  });
});

describe('secretByteScrubber (responses flowing back into a sandbox)', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const run = (chunks: Uint8Array[]) => {
    const scrubber = secretByteScrubber([SECRET]);
    const parts = [...chunks.map((chunk) => scrubber.push(chunk)), scrubber.end()];
    return new TextDecoder().decode(Uint8Array.from(parts.flatMap((part) => [...part])));
  };

  it('removes every form of the secret even when the stream splits it at any byte', () => {
    for (const form of secretForms(SECRET)) {
      const whole = bytes(`before ${form} after`);
      for (let cut = 1; cut < whole.length; cut++) {
        const out = run([whole.subarray(0, cut), whole.subarray(cut)]);
        expect(out).toBe(`before ${REDACTED} after`);
      }
    }
  });

  it('passes other bytes through unchanged, in order, including non-UTF-8 bytes', () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 256);
    const scrubber = secretByteScrubber([SECRET]);
    const out = [...scrubber.push(data.subarray(0, 1234)), ...scrubber.push(data.subarray(1234)), ...scrubber.end()];
    expect(out).toEqual([...data]);
  });
});
