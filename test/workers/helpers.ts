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

/**
 * The security headers every response must carry, errors included, byte for byte
 * (docs/http.md). Written out here rather than imported from src/http, so a weakened value in
 * the code shows up as a failing test instead of a changed expectation.
 */
export const EXPECTED_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // RFC 6797 §6.1: two years, subdomains included.
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy':
    'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()',
  'Cache-Control': 'no-store',
};

/** crypto.randomUUID(): RFC 9562 version 4, lower-case. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function expectSecurityHeaders(res: Response): void {
  for (const [name, value] of Object.entries(EXPECTED_SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
  expect(res.headers.get('X-Request-Id')).toMatch(UUID_V4);
}

/** Asserts the error envelope and returns it. */
export async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('Content-Type')).toBe('application/json');
  expectSecurityHeaders(res);
  const body = (await res.json()) as { error: { code: string; message: string; requestId: string; fields?: string[] } };
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get('X-Request-Id'));
  expect(body.error.message).not.toMatch(/at .*\(|\.ts:\d+|Error:/); // no stack, no internal message
  return body.error;
}
