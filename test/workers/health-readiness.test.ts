/**
 * GET /readyz (src/health/readiness.ts): whether tool calls can run now, with no detail. A
 * runner that died made every call fail while /healthz kept answering ok; readiness says so.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { expectSecurityHeaders, ORIGIN } from './helpers';
import { LOCAL_EXECUTOR, RUNNER_URL } from './tools-support';
import { testThrottle } from './identity-helpers';

function probe(bindings: Record<string, unknown>, runner: (url: string) => Promise<Response>) {
  const asked: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL) => {
    asked.push(String(input));
    return runner(String(input));
  }) as typeof fetch;
  const app = createApp({ loginThrottle: testThrottle, fetch: fetchFn });
  return { asked, get: () => app.fetch(new Request(`${ORIGIN}/readyz`), { ...env, ...bindings }) };
}

describe('GET /readyz: tool execution available or not, without detail', () => {
  it('is ready when the local runner answers its health check', async () => {
    const { asked, get } = probe(LOCAL_EXECUTOR, async () => Response.json({ ok: true, isolation: 'bwrap' }));
    const res = await get();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
    expect(asked).toEqual([`${RUNNER_URL}/healthz`]);
    expectSecurityHeaders(res);
  });

  it.each([
    ['a dead runner (connection refused)', async () => Promise.reject(new TypeError('connect ECONNREFUSED'))],
    ['a runner answering 500', async () => new Response('boom', { status: 500 })],
  ])('is unavailable with %s: 503 {"status":"unavailable"} and nothing else', async (_label, runner) => {
    const { get } = probe(LOCAL_EXECUTOR, runner);
    const res = await get();
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('{"status":"unavailable"}');
  });

  it('is unavailable when tool execution is not configured, without asking anything', async () => {
    const { asked, get } = probe({ TOOL_EXECUTOR: undefined }, async () => Response.json({ ok: true }));
    const res = await get();
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('{"status":"unavailable"}');
    expect(asked).toEqual([]);
  });

  it('/healthz stays liveness only: ok even when the runner is dead', async () => {
    const app = createApp({ loginThrottle: testThrottle, fetch: (async () => Promise.reject(new TypeError('dead'))) as typeof fetch });
    const res = await app.fetch(new Request(`${ORIGIN}/healthz`), { ...env, ...LOCAL_EXECUTOR });
    expect(res.status).toBe(200);
  });
});
