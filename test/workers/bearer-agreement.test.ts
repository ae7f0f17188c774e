/**
 * Authentication and the rate limiter's credential bucket read `Authorization` with one parser
 * (src/lib/bearer.ts). If they disagreed, a request could authenticate with an API key while
 * the limiter counted it under a cookie the client rotates, so the per-credential limit would
 * never bite.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/lib';
import { createKey, login, OWNER, setupInstance } from './identity-helpers';
import { sendWithEnv, storedWindow } from './ratelimit-helpers';

const tight = { RATE_LIMITS: JSON.stringify({ 'api-credential': { limit: 3, windowS: 60 }, 'api-ip': { limit: 100, windowS: 60 } }) };
const me = (ip: string, headers: Record<string, string>) =>
  sendWithEnv('/api/v1/me', tight, { headers: { 'CF-Connecting-IP': ip, ...headers } });

/** Hits the owning limiter shard has counted for (policy, key). */
async function storedHits(policy: string, key: string): Promise<number> {
  return (await storedWindow(policy, key)).hits;
}

describe('one Bearer parser for authentication and the credential bucket', () => {
  let apiKey = '';
  beforeAll(async () => {
    await setupInstance();
    apiKey = (await createKey(await login(OWNER.email, OWNER.password), ['agents:read'])).key;
  });

  it('a key with a trailing control character and a fresh cookie each time is never admitted past the key limit', async () => {
    const cookies = Array.from({ length: 6 }, (_, i) => `rotated-cookie-${i}`);
    const statuses: number[] = [];
    for (const cookie of cookies) {
      statuses.push(
        (await me('198.51.100.150', { Authorization: `Bearer ${apiKey}\u000b`, Cookie: `__Host-portcullis_session=${cookie}` })).status,
      );
    }
    // Whatever the parser decides, at most the key's 3 requests may be served.
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(3);
    // The rotated cookies got no bucket of their own (the request was keyed by its address).
    for (const cookie of cookies) expect(await storedHits('api-credential', `cred:${await sha256Hex(cookie)}`)).toBe(0);
  });

  it('a key after two spaces (RFC 6750 §2.1 1*SP) authenticates and is counted under the key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await me('198.51.100.151', { Authorization: `Bearer  ${apiKey}`, Cookie: `__Host-portcullis_session=c-${i}` })).status,
      );
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('a malformed header is refused and counted under the address, not under a cookie', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await me('198.51.100.152', { Authorization: `Bearer ${apiKey} extra`, Cookie: `__Host-portcullis_session=m-${i}` })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(await storedHits('api-credential', 'ip:198.51.100.152')).toBe(3);
  });
});
