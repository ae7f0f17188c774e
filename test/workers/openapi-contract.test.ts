import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { send } from './helpers';

interface Operation {
  operationId?: string;
  security?: unknown[];
}
interface Document {
  openapi: string;
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
}

async function servedDocument(): Promise<Document> {
  const res = await send('/api/v1/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

const operationsOf = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
  );

describe('GET /api/v1/openapi.json is a contract clients can be generated from', () => {
  it('names every operation with a unique camelCase operationId, so generated clients get names', async () => {
    const ops = operationsOf(await servedDocument());
    expect(ops.length).toBeGreaterThan(30);
    expect(
      ops.filter(({ op }) => typeof op.operationId !== 'string' || !/^[a-z][a-zA-Z0-9]*$/.test(op.operationId)).map(({ route }) => route),
    ).toEqual([]);
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('keeps operationIds stable (renaming one breaks every generated client)', async () => {
    const byRoute = Object.fromEntries(operationsOf(await servedDocument()).map(({ route, op }) => [route, op.operationId]));
    expect(byRoute).toMatchObject({
      'GET /api/v1/agents': 'listAgents',
      'POST /api/v1/agents': 'createAgent',
      'POST /api/v1/auth/login': 'login',
      'POST /api/v1/policy/compile': 'compilePolicy',
      'POST /api/v1/agents/{id}/tools/{name}/invocations': 'invokeTool',
      'POST /hooks/discord/{connectorId}': 'receiveDiscordWebhook',
    });
  });

  it('has a servers entry and an explicit security on every operation ([] for public ones)', async () => {
    const doc = await servedDocument();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(
      operationsOf(doc)
        .filter(({ op }) => !Array.isArray(op.security))
        .map(({ route }) => route),
    ).toEqual([]);
  });

  it('is valid OpenAPI 3.1 (swagger-parser) and the checked-in typed client was generated from exactly this document (openapi-typescript)', async () => {
    const doc = await servedDocument();
    const report = (await (await env.OPENAPI_CONTRACT.fetch('http://contract/', { method: 'POST', body: JSON.stringify(doc) })).json()) as {
      invalid: string | null;
      stale: boolean;
    };
    expect(report.invalid).toBeNull();
    // Stale: `npm run openapi:update` regenerates test/node/openapi-client/schema.d.ts; review and commit it.
    expect(report.stale).toBe(false);
  });

  it('the validator refuses a broken document (the check above can fail)', async () => {
    const { info: _info, ...withoutInfo } = (await servedDocument()) as unknown as Record<string, unknown>;
    // `info` is required by OpenAPI 3.1 §4.8.1.
    const report = (await (
      await env.OPENAPI_CONTRACT.fetch('http://contract/', { method: 'POST', body: JSON.stringify(withoutInfo) })
    ).json()) as { invalid: string | null };
    expect(report.invalid).not.toBeNull();
  });
});
