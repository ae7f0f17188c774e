/**
 * Per-connection WebSocket message limit (for /api/v1/events): a token bucket, pure and
 * in memory, because it guards one connection inside one isolate and dies with it. A
 * sustained rate plus a burst suits chatty-but-bursty clients better than a fixed window.
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
  const perSecond = options.perSecond ?? WS_MESSAGES_PER_S;
  const burst = options.burst ?? WS_MESSAGE_BURST;
  if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError('message limiter needs perSecond > 0 and burst >= 1');
  let tokens = burst;
  let lastMs = options.nowMs;
  return {
    allow(nowMs) {
      // A clock that steps back refills nothing rather than going negative.
      const elapsedMs = Math.max(0, nowMs - lastMs);
      lastMs = Math.max(lastMs, nowMs);
      tokens = Math.min(burst, tokens + (elapsedMs * perSecond) / 1000);
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
