/**
 * Instants for tests that inject a clock. They are taken from the real clock, never fixed
 * dates: a fixed instant goes stale with the calendar, and a Durable Object's alarm, which
 * the runtime schedules on the real clock, then fires in the middle of the test and acts on
 * state the test still expects (dedupe windows, rate-limit logs).
 */
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * An instant `days` ahead of the real now (default 8: longer than any window the gateway
 * keeps, 7 days at most), so no alarm armed for it or for anything inside a window after it
 * fires while the tests run. It lies on a whole minute so that second-rounded figures
 * (`Retry-After`, Slack's `X-Slack-Request-Timestamp`) are exact.
 */
export function aheadOfRealNow(days = 8): number {
  return Math.ceil(Date.now() / MINUTE_MS) * MINUTE_MS + days * DAY_MS;
}
