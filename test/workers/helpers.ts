import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';

/** The gateway's own origin in tests; requests go through the real Worker fetch handler. */
export const ORIGIN = 'https://gateway.example.com';

export function send(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
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
