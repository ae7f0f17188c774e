import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';

/** The gateway's own origin in tests; requests go through the real Worker fetch handler. */
export const ORIGIN = 'https://gateway.example.com';

let nextClient = 0;
/**
 * A fresh client address (RFC 2544 benchmarking range 198.18.0.0/15) for each request that
 * names none, so the per-IP rate limits (20/min on /api/v1/auth/*) never decide a test that
 * is about something else. Tests about rate limits always send their own CF-Connecting-IP.
 */
function anyClientIp(): string {
  nextClient = (nextClient + 1) % 65536;
  return `198.18.${nextClient >> 8}.${nextClient & 255}`;
}

export function send(path: string, init?: RequestInit): Promise<Response> {
  const request = new Request(`${ORIGIN}${path}`, init);
  if (!request.headers.has('CF-Connecting-IP')) request.headers.set('CF-Connecting-IP', anyClientIp());
  return exports.default.fetch(request);
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return send(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** The DESIGN.md security headers every response must carry, errors included. */
export function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get('Strict-Transport-Security')).toMatch(/^max-age=\d+/);
  expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
  expect(res.headers.get('X-Frame-Options')).toBe('DENY');
  expect(res.headers.get('Referrer-Policy')).toBe('no-referrer');
  expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
  expect(res.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
  expect(res.headers.get('Cross-Origin-Resource-Policy')).toBe('same-origin');
  expect(res.headers.get('Permissions-Policy')).toContain('camera=()');
  expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
}

/** Asserts the error envelope and returns it. */
export async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
  expectSecurityHeaders(res);
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string; fields?: string[] } };
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get('X-Request-Id'));
  expect(body.error.message).not.toMatch(/at .*\(|\.ts:\d+|Error:/); // no stack, no internal message
  return body.error;
}
