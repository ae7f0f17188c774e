/**
 * Test support for the tools API. Execution needs a runner, which cannot run inside workerd;
 * tests that must see a call run point RUNNER_URL at `stubRunner`, a Worker-side stand-in that
 * checks the request signature with the runner's own verifier and answers like the runner:
 * the reply's fields override a successful answer (egressEvents included, well-formed or not;
 * `proxyDecision` builds the runner proxy's own event shape), or a Response is sent as is.
 * Everything before the executor boundary is the real code.
 */
import { env } from 'cloudflare:workers';
import { importRunnerKey, verifyRunnerRequest } from '../../src/protocol';
import { createApp } from '../../src/app';
import manifest from '../fixtures/tools/test-tools.manifest.json';
import { ORIGIN } from './helpers';
import { testThrottle, type Session } from './identity-helpers';

export const TEST_MANIFEST = manifest;
export const RUNNER_SECRET = 'test-runner-secret-0123456789abcdef-not-for-production';
export const RUNNER_URL = 'http://runner.test:8791';

export interface RunnerCall {
  body: {
    tool: string;
    argv?: string[];
    env: Record<string, string>;
    timeoutMs: number;
    outputLimitBytes: number;
    sandbox?: { bwrapArgv: string[] };
    egress?: { allow: Array<{ host: string; port: number }> };
    placeholders?: Array<{ placeholder: string; value: string; hosts: string[] }>;
  };
}

export type RunnerReply = (call: RunnerCall) => Record<string, unknown> | Response;

/** One event as the runner's proxy reports it (containers/runner/src/egress-events.ts). */
export function proxyDecision(host: string, port = 443, allow = true): Record<string, unknown> {
  return allow
    ? { type: 'egress.decision', via: 'connect', host, port, allow: true, rule: 6, reason: 'allowlisted' }
    : { type: 'egress.decision', via: 'connect', host, port, allow: false, rule: 8, reason: 'not-allowlisted' };
}

/** A runner stand-in: refuses unsigned or badly signed requests (401), records the rest. */
export function stubRunner(reply: RunnerReply) {
  const calls: RunnerCall[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (`${url.protocol}//${url.host}` !== RUNNER_URL || url.pathname !== '/invocations')
      return new Response('no internet in tests', { status: 599 });
    const text = await request.text();
    const check = await verifyRunnerRequest(await importRunnerKey(RUNNER_SECRET), {
      method: request.method,
      path: url.pathname,
      body: text,
      nowS: Math.floor(Date.now() / 1000),
      timestamp: request.headers.get('x-portcullis-timestamp'),
      signature: request.headers.get('x-portcullis-signature'),
    });
    if (!check.ok) return new Response('{"error":{"code":"UNAUTHENTICATED"}}', { status: 401 });
    const call = { body: JSON.parse(text) as RunnerCall['body'] };
    calls.push(call);
    const answer = reply(call);
    if (answer instanceof Response) return answer;
    return Response.json({
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      truncated: false,
      durationMs: 12,
      stopReason: 'exit',
      egressEvents: [],
      ...answer,
    });
  };
  return { calls, fetch: fetchFn as typeof fetch };
}

export const LOCAL_EXECUTOR = {
  TOOL_EXECUTOR: 'local',
  RUNNER_URL,
  RUNNER_SECRET,
  RUNNER_WORKSPACE_ROOT: '/var/lib/portcullis-runner/workspaces',
};

/** An app with its own clock and outbound fetch, and extra bindings (executor configuration). */
export function toolApp(options: { now?: () => number; fetch?: typeof fetch; bindings?: Record<string, unknown> }) {
  const app = createApp({
    loginThrottle: testThrottle,
    ...(options.now ? { now: options.now } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const bindings = { ...env, ...options.bindings };
  return (session: Session, path: string, init: { method?: string; body?: unknown } = {}) => {
    const headers: Record<string, string> = { Cookie: session.cookie, 'X-CSRF-Token': session.csrfToken };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    return app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
      bindings,
    );
  };
}
