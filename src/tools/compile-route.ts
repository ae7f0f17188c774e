/**
 * POST /api/v1/policy/compile: the CLI's `portcullis compile` over HTTP, returning the same
 * artifact. Compile errors are 400 VALIDATION_ERROR naming the code and the manifest path
 * (e.g. CAP_NET_PORT at manifest.tools.0.capabilities.3), never the offending value.
 *
 * Compiling is pure, but it is still an API: signed-in callers with agents:read only. The
 * route carries that itself, so mounting policyRoutes anywhere never makes it open.
 */
import { z } from '@hono/zod-openapi';
import { secured, signedIn } from '../auth';
import { ApiError, createRouter, errorResponses } from '../http';
import { compileManifest, EGRESS_TARGETS, type PolicyError, TARGETS } from '../policy';

const CompileRequest = z
  .object({
    manifest: z.record(z.string(), z.unknown()).openapi({
      description:
        'Tool manifest, capgate-compatible: {name, version, grammar?, serverCapabilities?, tools: [{name, capabilities, description?, inputSchema?, run?}]}. `serverCapabilities` are merged into every tool (also with `tool`); `grammar`, when given, must be exactly "0.0"; unknown keys are refused by name (docs/policy.md).',
    }),
    target: z.enum(TARGETS as [string, ...string[]]),
    egressTarget: z
      .enum(EGRESS_TARGETS as [string, ...string[]])
      .optional()
      .openapi({ description: "Only with target 'egress'; default squid." }),
    tool: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "Compile only this tool's capabilities (plus the manifest's serverCapabilities)." }),
  })
  .strict()
  .refine((body) => body.egressTarget === undefined || body.target === 'egress', { path: ['egressTarget'] })
  .openapi('PolicyCompileRequest');

const CompileArtifact = z
  .looseObject({
    target: z.string(),
    provenance: z.string().openapi({ example: 'sha256:…' }),
    egress: z.object({ allow: z.array(z.object({ host: z.string(), port: z.number().int() })), blockPrivate: z.literal(true) }),
    unenforceable: z.array(z.object({ capability: z.string(), reason: z.string() })),
  })
  .openapi('PolicyArtifact');

const compileRoute = secured(
  {
    method: 'post',
    path: '/api/v1/policy/compile',
    operationId: 'compilePolicy',
    summary: 'Compile a tool manifest into a sandbox configuration (bwrap, docker, egress, cloudflare, k8s)',
    request: { body: { required: true, content: { 'application/json': { schema: CompileRequest } } } },
    responses: {
      200: {
        description: 'The artifact, identical to `portcullis compile` output',
        content: { 'application/json': { schema: CompileArtifact } },
      },
      ...errorResponses(400, 401, 403, 413, 415),
    },
  },
  signedIn('agents:read'),
);

/** Field path of a compile error inside the request body. */
function fieldOf(error: PolicyError): string {
  if (error.code === 'TOOL_NOT_FOUND') return 'tool';
  return error.path === '(root)' ? 'manifest' : `manifest.${error.path}`;
}

export function policyRoutes() {
  return createRouter().openapi(compileRoute, (c) => {
    const body = c.req.valid('json');
    const result = compileManifest(body.manifest, {
      target: body.target as (typeof TARGETS)[number],
      ...(body.egressTarget !== undefined ? { egressTarget: body.egressTarget as (typeof EGRESS_TARGETS)[number] } : {}),
      ...(body.tool !== undefined ? { tool: body.tool } : {}),
    });
    if (!result.ok) {
      const field = fieldOf(result.error);
      throw new ApiError('VALIDATION_ERROR', `Policy compile error ${result.error.code} at ${field}.`, { fields: [field] });
    }
    // The published schema names the fields clients rely on; the artifact carries more (looseObject).
    const artifact: z.infer<typeof CompileArtifact> = { ...result.artifact };
    return c.json(artifact, 200);
  });
}
