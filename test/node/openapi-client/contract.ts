/**
 * The Node side of the OpenAPI contract test (test/workers/openapi-contract.test.ts): the
 * Worker's served document arrives through a test-only service binding (vitest.workers.config.ts)
 * and is checked here, where the tools run: @apidevtools/swagger-parser validates it against
 * the OpenAPI 3.1 schema, and openapi-typescript generates the typed client's `paths` from it.
 * The generated file is checked in (schema.d.ts beside this file), so `npm run typecheck`
 * type-checks example.ts against it; a document that changed without regenerating fails as
 * stale. `npm run openapi:update` (UPDATE_OPENAPI=1) rewrites the file instead.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { readFile, writeFile } from 'node:fs/promises';
import openapiTS, { astToString } from 'openapi-typescript';

export const GENERATED_CLIENT_TYPES = new URL('./schema.d.ts', import.meta.url);

const HEADER = '// Generated from GET /api/v1/openapi.json by openapi-typescript; do not edit.\n// Regenerate: npm run openapi:update\n\n';

export interface ContractReport {
  /** swagger-parser's message when the document is not valid OpenAPI 3.1, else null. */
  invalid: string | null;
  /** The checked-in types differ from what the served document generates. */
  stale: boolean;
  updated: boolean;
}

export async function checkOpenApiContract(document: unknown, options: { update: boolean }): Promise<ContractReport> {
  let invalid: string | null = null;
  try {
    // validate() dereferences in place: give it a copy so the generator sees the document as served.
    await SwaggerParser.validate(structuredClone(document) as Parameters<typeof SwaggerParser.validate>[0]);
  } catch (error) {
    invalid = error instanceof Error ? error.message : String(error);
  }
  // An invalid document generates nothing and never overwrites the checked-in types.
  if (invalid !== null) return { invalid, stale: true, updated: false };
  const generated = HEADER + astToString(await openapiTS(document as Parameters<typeof openapiTS>[0]));
  const current = await readFile(GENERATED_CLIENT_TYPES, 'utf8').catch(() => '');
  if (options.update && current !== generated) {
    await writeFile(GENERATED_CLIENT_TYPES, generated);
    return { invalid, stale: false, updated: true };
  }
  return { invalid, stale: current !== generated, updated: false };
}

/** The service binding's handler: POST the document, get the report. */
export async function openApiContractService(request: Request): Promise<Response> {
  const report = await checkOpenApiContract(await request.json(), { update: process.env.UPDATE_OPENAPI === '1' });
  return Response.json(report);
}
