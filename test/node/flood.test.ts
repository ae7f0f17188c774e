/**
 * A flood against a real local gateway (`wrangler dev` as `npm run dev` starts it, on a free
 * loopback port, throw-away state): 10,000 distinct client addresses plus a few hot keys.
 * Bounded in count (10,600 requests, 16 in flight) and time (a deadline per phase).
 * Checks: no 5xx at all; the hot keys' limits exact (60 of 200 concurrent per address);
 * the limiter shards' memory within its bound (their `ratelimit.shard.memory` log lines);
 * traffic from another address served meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalGateway, type LocalGateway, type LocalResponse } from '../../scripts/local-gateway.mjs';

const DISTINCT_ADDRESSES = 10_000;
const HOT_ADDRESSES = ['203.0.113.201', '203.0.113.202', '203.0.113.203'];
const HOT_REQUESTS = 200;
const IN_FLIGHT = 16;
const PHASE_DEADLINE_MS = 12 * 60_000;
/** SHARD_MEMORY and LIMITER_SHARDS in src/ratelimit. */
const SHARD_KEYS = 2_048;
const SHARD_HITS = 16_384;

let gateway: LocalGateway;

/** Runs `count` requests with at most IN_FLIGHT at once; fails past the deadline instead of hanging. */
async function pool(count: number, fire: (i: number) => Promise<LocalResponse>): Promise<number[]> {
  const statuses: number[] = [];
  const deadline = Date.now() + PHASE_DEADLINE_MS;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      if (Date.now() > deadline) throw new Error(`flood phase over its deadline after ${statuses.length} of ${count} requests`);
      const i = next++;
      statuses.push((await fire(i)).status);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return statuses;
}

const address = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}`;
const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

beforeAll(async () => {
  // A generous per-request deadline: the machine running this may be loaded; a request that
  // gets no answer at all within it still fails the test.
  // hooks-ip keeps its limit of 60 but over a day, so "exactly 60" does not depend on how long
  // the run takes on a loaded machine (with the default 60 s window, a slow run would
  // rightly admit more as hits leave the window).
  gateway = await startLocalGateway({
    maxSockets: IN_FLIGHT,
    requestTimeoutMs: 90_000,
    devVars: { RATE_LIMITS: JSON.stringify({ 'hooks-ip': { limit: 60, windowS: 86_400 } }) },
  });
}, 240_000);

afterAll(async () => {
  await gateway?.stop();
}, 30_000);

describe('flood against the local gateway', () => {
  it(
    'serves 10,000 distinct addresses and hot keys with no 5xx, exact hot limits, bounded limiter memory, and other traffic served',
    async () => {
      // 1. 10,000 addresses, one request each, on the catch-all (one shard decision each),
      //    with another client's traffic interleaved…
      const other: number[] = [];
      const flood = pool(DISTINCT_ADDRESSES, (i) => {
        if (i % 500 === 0)
          void gateway.send('GET', '/api/v1/setup', { 'CF-Connecting-IP': '192.0.2.250' }).then((r) => other.push(r.status));
        return gateway.send('GET', '/no-such-page', { 'CF-Connecting-IP': address(i) });
      });
      // 2. …and, during the flood, 200 concurrent hook requests from each hot address (60 allowed).
      const hot = await Promise.all(
        HOT_ADDRESSES.map(async (ip) =>
          tally(
            (
              await Promise.all(
                Array.from({ length: HOT_REQUESTS }, () =>
                  gateway.send('POST', '/hooks/slack/flood_none', { 'CF-Connecting-IP': ip }, '{}'),
                ),
              )
            ).map((r) => r.status),
          ),
        ),
      );
      for (const counts of hot) expect(counts).toEqual({ 404: 60, 429: 140 });
      const statuses = await flood;
      expect(tally(statuses)).toEqual({ 404: DISTINCT_ADDRESSES });

      // 3. Still exact for the hot keys after the flood, and other traffic is served.
      for (const ip of HOT_ADDRESSES)
        expect((await gateway.send('POST', '/hooks/slack/flood_none', { 'CF-Connecting-IP': ip }, '{}')).status).toBe(429);
      const after = await Promise.all(
        Array.from({ length: 10 }, () => gateway.send('GET', '/api/v1/setup', { 'CF-Connecting-IP': '192.0.2.251' })),
      );
      expect(after.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(other.length).toBeGreaterThan(0);
      expect(other.every((s) => s === 200)).toBe(true);

      // 4. Limiter memory: every shard's memory line within its bound, and there were lines.
      const memory = gateway.lines
        .filter((line) => line.includes('"ratelimit.shard.memory"'))
        .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as { keysInMemory: number; hitsInMemory: number; evicted: number });
      expect(memory.length).toBeGreaterThanOrEqual(10);
      expect(Math.max(...memory.map((m) => m.keysInMemory))).toBeLessThanOrEqual(SHARD_KEYS);
      expect(Math.max(...memory.map((m) => m.hitsInMemory))).toBeLessThanOrEqual(SHARD_HITS);
      // No response at all was a 5xx (the hot phase is covered by its exact tallies above).
      expect(statuses.some((s) => s >= 500)).toBe(false);
    },
    25 * 60_000,
  );
});
