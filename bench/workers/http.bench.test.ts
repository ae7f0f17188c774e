import { exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { measure, report } from './harness';

it('http: middleware stack cost on GET /healthz against a bare Response', async () => {
  const bare = await measure('bare Response', () => new Response('{"status":"ok"}', { headers: { 'Content-Type': 'application/json' } }).text());
  const full = await measure('GET /healthz through the gateway', async () => {
    const res = await exports.default.fetch(new Request('https://gateway.example.com/healthz'));
    await res.text();
  });
  expect(full.iterations).toBeGreaterThan(0);
  report('http-stack', bare, [full]);
});
