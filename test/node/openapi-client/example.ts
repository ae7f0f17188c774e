/**
 * A short client of the gateway, typed by `paths` generated from the served OpenAPI document
 * (schema.d.ts, checked for staleness by test/workers/openapi-contract.test.ts). It is not run
 * by the tests; `npm run typecheck` compiles it, so a change to a route's schema that breaks
 * clients breaks the build. The `@ts-expect-error` lines prove the types are real: if the
 * generated types were loose (`any`), those lines would compile and the directive would fail.
 */
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export async function createAgentAndCallTool(baseUrl: string, apiKey: string) {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

  const created = await client.POST('/api/v1/agents', { body: { name: 'triage', isolation: 'container' } });
  if (!created.data) throw new Error(`create failed: ${created.error?.error.code ?? created.response.status}`);
  const agentId: string = created.data.id;

  const call = await client.POST('/api/v1/agents/{id}/tools/{name}/invocations', {
    params: { path: { id: agentId, name: 'search_code' } },
    body: { arguments: { query: 'TODO' } },
  });
  // 200 ran, 202 waits for an approval; both carry the invocation id.
  if (!call.data) throw new Error(`invoke failed: ${call.error?.error.code ?? call.response.status}`);

  const status = await client.GET('/api/v1/invocations/{id}', { params: { path: { id: call.data.id } } });
  return status.data?.status;
}

export async function typesBite(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });
  // @ts-expect-error an agent needs a name
  await client.POST('/api/v1/agents', { body: {} });
  // @ts-expect-error isolation is one of container | sandbox | unrestricted
  await client.POST('/api/v1/agents', { body: { name: 'x', isolation: 'vm' } });
  // @ts-expect-error no such route
  await client.GET('/api/v1/agent');
}
