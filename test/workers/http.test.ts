import { describe, expect, it } from 'vitest';
import { expectError, expectSecurityHeaders, ORIGIN, postJson, send } from './helpers';

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} with the security headers', async () => {
    const res = await send('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expectSecurityHeaders(res);
  });

  it('gives every response its own request id and ignores a client-sent one', async () => {
    const forged = '00000000-0000-4000-8000-000000000000';
    const a = await send('/healthz', { headers: { 'X-Request-Id': forged } });
    const b = await send('/healthz');
    expectSecurityHeaders(a); // a fresh v4 UUID
    expect(a.headers.get('X-Request-Id')).not.toBe(forged);
    expect(a.headers.get('X-Request-Id')).not.toBe(b.headers.get('X-Request-Id'));
  });
});

describe('unknown routes and methods', () => {
  it('answers an unknown path with 404 NOT_FOUND and the security headers', async () => {
    await expectError(await send('/no/such/path'), 404, 'NOT_FOUND');
    await expectError(await send('/api/v1/nothing-here'), 404, 'NOT_FOUND');
  });

  it('answers a wrong method on a known path with 405 and an Allow header (RFC 9110 §15.5.6)', async () => {
    const res = await send('/healthz', { method: 'DELETE' });
    expect(res.headers.get('Allow')).toBe('GET, HEAD');
    await expectError(res, 405, 'METHOD_NOT_ALLOWED');
  });

  it('does not treat a path with an extra segment as the known route', async () => {
    await expectError(await send('/healthz/extra', { method: 'DELETE' }), 404, 'NOT_FOUND');
  });
});

describe('JSON body guard on /api/*', () => {
  it('refuses a text/plain body to a JSON route with 415', async () => {
    const res = await send('/api/v1/setup', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    await expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it.each([
    ['missing content type', undefined],
    ['form encoded', 'application/x-www-form-urlencoded'],
    ['json look-alike', 'application/jsonx'],
    ['json suffix on another type', 'text/json'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('refuses %s with 415', async (_label, contentType) => {
    const headers: Record<string, string> = contentType ? { 'Content-Type': contentType } : {};
    const res = await send('/api/v1/setup', { method: 'POST', headers, body: new Blob(['{}']).stream(), duplex: 'half' } as RequestInit);
    await expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a 2 MiB JSON body with 413', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) });
    await expectError(await postJson('/api/v1/setup', JSON.parse(body)), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses a chunked 2 MiB body with no Content-Length while streaming (413)', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 32) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await send('/api/v1/setup', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    // It read past 1 MiB (16 chunks) before refusing, and stopped long before the end. The exact
    // count depends on how far workerd pulls ahead, so this is the one range here.
    expect(sent).toBeGreaterThanOrEqual(17);
    expect(sent).toBeLessThan(32);
  });

  it('accepts application/json with a charset parameter', async () => {
    const res = await send('/api/v1/openapi.json', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: '{}',
    });
    // The body guard lets it through; the route only has GET, so the router answers 405.
    await expectError(res, 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('CORS: same-origin only', () => {
  const preflight = (origin: string) =>
    send('/api/v1/openapi.json', {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });

  it.each([
    ['a foreign origin', 'https://evil.example'],
    ['the null origin', 'null'],
    ['a look-alike suffix', 'https://gateway.example.com.evil.example'],
    ['a look-alike prefix', 'https://evilgateway.example.com'],
    ['the same host over http', 'http://gateway.example.com'],
    ['the same host on another port', 'https://gateway.example.com:8443'],
    ['userinfo trick', 'https://gateway.example.com@evil.example'],
  ])('refuses a cross-origin preflight from %s without Access-Control-Allow-Origin', async (_label, origin) => {
    const res = await preflight(origin);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    await expectError(res, 403, 'FORBIDDEN');
  });

  it('never sends Access-Control-Allow-Origin to a foreign origin on a simple request', async () => {
    const res = await send('/healthz', { headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
    expect(res.headers.get('Access-Control-Expose-Headers')).toBeNull();
    expect(res.headers.get('Vary')).toBe('Origin');
  });

  it('answers a same-origin simple request with exactly its own origin, credentials and the exposed headers', async () => {
    const res = await send('/healthz', { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBe('true');
    expect(res.headers.get('Access-Control-Expose-Headers')).toBe(
      'X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Mcp-Session-Id, WWW-Authenticate',
    );
    expect(res.headers.get('Vary')).toBe('Origin');
    expectSecurityHeaders(res);
  });

  it.each([
    ['its own origin', ORIGIN],
    ['a configured origin (ALLOWED_ORIGINS)', 'https://console.example.com'],
  ])('allows a preflight from %s with exactly the documented CORS headers', async (_label, origin) => {
    const res = await preflight(origin);
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(origin);
    expect(res.headers.get('Access-Control-Allow-Methods')).toBe('GET, POST, PUT, PATCH, DELETE');
    expect(res.headers.get('Access-Control-Allow-Headers')).toBe(
      'Content-Type, Authorization, X-CSRF-Token, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID',
    );
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBe('true');
    expect(res.headers.get('Access-Control-Max-Age')).toBe('600');
    expect(res.headers.get('Vary')).toBe('Origin');
    expectSecurityHeaders(res);
  });
});

describe('OpenAPI document', () => {
  it('is served as JSON and lists the health route', async () => {
    const res = await send('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/healthz');
  });
});
