import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { isDashboardPath } from '../../src/dashboard';
import { send } from './helpers';
import { testThrottle } from './identity-helpers';

describe('OpenAPI document covers the served routes', () => {
  it('documents every route the app serves, and nothing it does not', async () => {
    const app = createApp({ loginThrottle: testThrottle });
    const doc = (await (await send('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`)),
    );
    // The dashboard's HTML pages are not part of the REST contract (docs/dashboard.md).
    const served = new Set(app.routes.filter((r) => r.method !== 'ALL' && !isDashboardPath(r.path)).map((r) => `${r.method} ${r.path}`));
    served.delete('GET /api/v1/openapi.json');
    expect([...served].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !served.has(route))).toEqual([]);
  });
});
