/**
 * The runner's request signing is shared with the gateway: the same file must run inside
 * workerd (WebCrypto only). The vector was computed independently with node:crypto
 * createHmac('sha256', secret).update('v1\nPOST\n/invocations\n1767225600\n{"tool":"echo"}').
 */
import { describe, expect, it } from 'vitest';
import { importRunnerKey, signRunnerRequest, verifyRunnerRequest } from '../../src/protocol';

const SECRET = 'test-runner-secret-0123456789abcdef-not-for-production';
const VECTOR = '5f7fb61bf93900ba310457023e005204f6a4911c68ba5a2882e2c7bcd7789cbe';

describe('runner request signing inside workerd', () => {
  it('produces the independently computed HMAC-SHA256', async () => {
    const key = await importRunnerKey(SECRET);
    const headers = await signRunnerRequest(key, { method: 'POST', path: '/invocations', body: '{"tool":"echo"}', nowS: 1_767_225_600 });
    expect(headers).toEqual({ 'x-portcullis-timestamp': '1767225600', 'x-portcullis-signature': VECTOR });
  });

  it('verifies its own signature and refuses a stale or altered one', async () => {
    const key = await importRunnerKey(SECRET);
    const base = { method: 'POST', path: '/invocations', body: '{"tool":"echo"}', timestamp: '1767225600', signature: VECTOR };
    expect(await verifyRunnerRequest(key, { ...base, nowS: 1_767_225_630 })).toEqual({ ok: true, signatureHex: VECTOR });
    expect(await verifyRunnerRequest(key, { ...base, nowS: 1_767_225_661 })).toEqual({ ok: false, failure: { kind: 'stale' } });
    expect(await verifyRunnerRequest(key, { ...base, body: '{"tool":"rm"}', nowS: 1_767_225_600 })).toEqual({
      ok: false,
      failure: { kind: 'mismatch' },
    });
  });
});
