import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectError, send } from './helpers';
import { T0 } from './ratelimit-helpers';

// The middleware reads the clock once per request; faking Date moves the Worker's clock
// (the main Worker runs in the test isolate), so the window edge is exercised over HTTP.
afterEach(() => {
  vi.useRealTimers();
});

const hookAt = async (at: number, ip: string) => {
  vi.setSystemTime(at);
  return send('/hooks/discord/conn_edge', { method: 'POST', headers: { 'CF-Connecting-IP': ip } });
};

describe('window edge over HTTP (clock injected)', () => {
  it('counts Retry-After and RateLimit-* down to the edge of the 60 s hooks window, then admits', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const ip = '203.0.113.200';
    for (let i = 0; i < 60; i++) expect((await hookAt(T0 + i * 500, ip)).status).toBe(404); // 60 hits over 29.5 s

    const atFull = await hookAt(T0 + 30_000, ip);
    expect([atFull.headers.get('Retry-After'), atFull.headers.get('RateLimit-Reset'), atFull.headers.get('RateLimit-Remaining')]).toEqual([
      '30',
      '30',
      '0',
    ]);
    await expectError(atFull, 429, 'RATE_LIMITED');

    const justBefore = await hookAt(T0 + 59_999, ip);
    expect([justBefore.headers.get('Retry-After'), justBefore.headers.get('RateLimit-Reset')]).toEqual(['1', '1']);
    await expectError(justBefore, 429, 'RATE_LIMITED');

    // At T0 + 60 s the first hit leaves: exactly one slot, whose successor frees 0.5 s later (rounded up to 1).
    const atEdge = await hookAt(T0 + 60_000, ip);
    expect(atEdge.status).toBe(404);
    expect([
      atEdge.headers.get('RateLimit-Limit'),
      atEdge.headers.get('RateLimit-Remaining'),
      atEdge.headers.get('RateLimit-Reset'),
    ]).toEqual(['60', '0', '1']);
    expect(atEdge.headers.get('Retry-After')).toBeNull();

    const next = await hookAt(T0 + 60_000, ip);
    expect(next.headers.get('Retry-After')).toBe('1');
    await expectError(next, 429, 'RATE_LIMITED');
  });
});
