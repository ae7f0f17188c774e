import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { send } from './helpers';
import { testThrottle } from './identity-helpers';

describe('OpenAPI document covers the served routes', () => {
  it('documents every route the app serves, and nothing it does not', async () => {
    const app = createApp({ loginThrottle: testThrottle });
    const doc = (await (await send('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`)),
    );
    const served = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
    served.delete('GET /api/v1/openapi.json');
    expect([...served].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !served.has(route))).toEqual([]);
  });
});
