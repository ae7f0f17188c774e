/**
 * Both Slack ("more than five minutes from local time") and Portcullis's own choice for
 * Discord (whose docs set no window) refuse a signed timestamp this far from now, in either
 * direction: a request from the future is as suspect as a replayed one.
 */
export const REPLAY_WINDOW_S = 5 * 60;

/** Decimal Unix seconds only: no sign, no exponent, no fraction, no whitespace. */
const UNIX_SECONDS = /^[0-9]{1,12}$/;

export type TimestampVerdict = { ok: true; seconds: number } | { ok: false; reason: 'malformed-timestamp' | 'stale-timestamp' };

/** `now` is epoch milliseconds, injected by the caller. */
export function checkTimestamp(header: string, now: number): TimestampVerdict {
  if (!UNIX_SECONDS.test(header)) return { ok: false, reason: 'malformed-timestamp' };
  const seconds = Number(header);
  if (!Number.isFinite(now) || Math.abs(now / 1000 - seconds) > REPLAY_WINDOW_S) return { ok: false, reason: 'stale-timestamp' };
  return { ok: true, seconds };
}
