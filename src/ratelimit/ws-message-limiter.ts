import { fullBucket, takeToken } from '../lib';

/**
 * Per-connection WebSocket message limit (for /api/v1/events): a token bucket, pure and
 * in memory, because it guards one connection inside one isolate and dies with it. A
 * sustained rate plus a burst suits chatty-but-bursty clients better than a fixed window.
 * The arithmetic is src/lib/token-bucket.ts, which the events hub (src/events) also uses on
 * state kept in each connection's attachment, so that it survives hibernation.
 */

export const WS_MESSAGES_PER_S = 60;
export const WS_MESSAGE_BURST = 120;
/** RFC 6455 §7.4.1: 1008 = policy violation; the caller closes with it when allow() is false. */
export const WS_POLICY_VIOLATION = 1008;

export interface MessageLimiter {
  /** Takes one token at `nowMs`; false means the message is over the limit and the connection should close. */
  allow(nowMs: number): boolean;
}

export function createMessageLimiter(options: { perSecond?: number; burst?: number; nowMs: number }): MessageLimiter {
  const rule = { perSecond: options.perSecond ?? WS_MESSAGES_PER_S, burst: options.burst ?? WS_MESSAGE_BURST };
  let state = fullBucket(rule, options.nowMs);
  return {
    allow(nowMs) {
      const taken = takeToken(state, rule, nowMs);
      state = taken.state;
      return taken.allowed;
    },
  };
}
