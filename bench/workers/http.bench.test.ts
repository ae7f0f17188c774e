import { exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { measure, report } from './harness';

it('http: middleware stack cost on GET /healthz against a bare Response', async () => {
  const bare = await measure('bare Response', () =>
    new Response('{"status":"ok"}', { headers: { 'Content-Type': 'application/json' } }).text(),
  );
  // A different address per request, so no isolate bucket of /healthz (120/min each) fills: the admitted path is measured.
  let n = 0;
  const request = () => {
    const i = n++;
    return new Request('https://gateway.example.com/healthz', {
      headers: { 'CF-Connecting-IP': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    });
  };
  for (let i = 0; i < 250; i++) await (await exports.default.fetch(request())).text();
  const full = await measure('GET /healthz through the gateway', async () => {
    const res = await exports.default.fetch(request());
    await res.text();
  });
  expect(full.iterations).toBeGreaterThan(0);
  report('http-stack', bare, [full]);
});
