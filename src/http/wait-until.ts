import type { Context } from 'hono';

/**
 * The request's `waitUntil`, for work that may finish after the response; undefined when
 * there is no execution context (`app.request` / `app.fetch` in a unit test), so callers
 * await the work instead of losing it.
 */
export function waitUntilOf(c: Context): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    return undefined;
  }
}
