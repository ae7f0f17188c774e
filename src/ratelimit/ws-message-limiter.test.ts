import { describe, expect, it } from 'vitest';
import { createMessageLimiter, WS_MESSAGE_BURST, WS_MESSAGES_PER_S, WS_POLICY_VIOLATION } from './ws-message-limiter';

const T0 = 1_900_000_000_000;

function countAllowed(limiter: ReturnType<typeof createMessageLimiter>, messages: number, at: (i: number) => number): number {
  let allowed = 0;
  for (let i = 0; i < messages; i++) if (limiter.allow(at(i))) allowed++;
  return allowed;
}

describe('WebSocket per-connection message limiter (token bucket)', () => {
  it('defaults to 60 msg/s with a burst of 120 and closes with 1008 (RFC 6455 §7.4.1 policy violation)', () => {
    expect([WS_MESSAGES_PER_S, WS_MESSAGE_BURST, WS_POLICY_VIOLATION]).toEqual([60, 120, 1008]);
  });

  it('allows a burst of exactly 120 messages at once, then refuses the 121st', () => {
    const limiter = createMessageLimiter({ nowMs: T0 });
    expect(countAllowed(limiter, 120, () => T0)).toBe(120);
    expect(limiter.allow(T0)).toBe(false);
  });

  it('refills at 60 per second: one message every 1/60 s after the burst is spent', () => {
    const limiter = createMessageLimiter({ nowMs: T0 });
    countAllowed(limiter, 120, () => T0);
    expect(limiter.allow(T0 + 16)).toBe(false); // 0.96 of a token
    expect(limiter.allow(T0 + 17)).toBe(true);
    expect(countAllowed(limiter, 1000, () => T0 + 1017)).toBe(60);
  });

  it('sustains 60 msg/s forever but not 61', () => {
    const steady = createMessageLimiter({ nowMs: T0 });
    expect(countAllowed(steady, 600, (i) => T0 + Math.ceil((i * 1000) / 60))).toBe(600);
    const tooFast = createMessageLimiter({ nowMs: T0 });
    // 61 msg/s for 130 s is 7930 messages; the bucket passes at most 120 + 60 × 130 = 7920.
    const sent = 61 * 130;
    const allowed = countAllowed(tooFast, sent, (i) => T0 + Math.floor((i * 1000) / 61));
    expect(allowed).toBeLessThan(sent);
    expect(allowed).toBeLessThanOrEqual(120 + 60 * 130);
  });

  it('never lets an idle connection save up more than the burst', () => {
    const limiter = createMessageLimiter({ nowMs: T0 });
    expect(countAllowed(limiter, 500, () => T0 + 3_600_000)).toBe(120);
  });

  it('grants nothing extra when the clock steps backwards', () => {
    const limiter = createMessageLimiter({ nowMs: T0 });
    countAllowed(limiter, 120, () => T0);
    expect(limiter.allow(T0 - 10_000)).toBe(false);
    expect(limiter.allow(T0 + 16)).toBe(false);
  });

  it('takes custom rates and refuses nonsense options', () => {
    const limiter = createMessageLimiter({ nowMs: T0, perSecond: 1, burst: 2 });
    expect(countAllowed(limiter, 5, () => T0)).toBe(2);
    expect(() => createMessageLimiter({ nowMs: T0, perSecond: 0 })).toThrow(RangeError);
    expect(() => createMessageLimiter({ nowMs: T0, burst: 0 })).toThrow(RangeError);
    expect(() => createMessageLimiter({ nowMs: T0, perSecond: Number.NaN })).toThrow(RangeError);
  });
});
