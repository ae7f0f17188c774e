import { z } from '@hono/zod-openapi';
import { APPROVAL_MODES } from '../db';
import {
  ARGUMENT_ARRAY_MAX_ITEMS,
  ARGUMENT_KEY_MAX_CHARS,
  ARGUMENT_OBJECT_MAX_PROPERTIES,
  ARGUMENT_STRING_MAX_CHARS,
  ARGUMENTS_MAX_BYTES,
  ARGUMENTS_MAX_DEPTH,
} from './argument-limits';

/** Argument patterns that need no approval under `on-miss`: argument name → glob (`*` any run of characters). */
export const ApprovalAllowlist = z
  .array(
    z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), z.string().max(1024))
      .refine((entry) => Object.keys(entry).length > 0, { message: 'empty pattern' }),
  )
  .max(64);

export const ToolApproval = z.strictObject({
  approval: z.enum(APPROVAL_MODES).default('never'),
  approvalAllowlist: ApprovalAllowlist.default([]),
});

const ToolSettings = z
  .record(
    z.string().min(1).max(64),
    z.strictObject({ approval: z.enum(APPROVAL_MODES).optional(), approvalAllowlist: ApprovalAllowlist.optional() }),
  )
  .openapi({
    description: 'Per tool name: `approval` (never | always | on-miss; default never) and `approvalAllowlist` (for on-miss).',
  });

export const InstallTools = z
  .union([
    z.strictObject({ manifest: z.record(z.string(), z.unknown()), tools: ToolSettings.optional() }),
    z.strictObject({ url: z.string().min(1).max(2048), tools: ToolSettings.optional() }),
  ])
  .openapi('InstallToolsRequest', { description: 'Exactly one of `manifest` (inline) or `url` (https, fetched with SSRF checks).' });
export type InstallToolsInput = z.infer<typeof InstallTools>;

export const InstalledToolView = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    manifest: z.object({ name: z.string(), version: z.string() }),
    capabilities: z
      .array(z.string())
      .openapi({ description: "Declared capabilities: the manifest's serverCapabilities, then the tool's own" }),
    provenance: z.string().openapi({ example: 'sha256:…' }),
    source: z.string().openapi({ description: '`inline` or the https URL the manifest came from' }),
    approval: z.enum(APPROVAL_MODES),
    approvalAllowlist: z.array(z.record(z.string(), z.string())),
    createdAt: z.number().int(),
  })
  .openapi('InstalledTool');
export const InstalledToolList = z.object({ tools: z.array(InstalledToolView) }).openapi('InstalledToolList');

export const AgentParams = z.object({ id: z.string().min(1).max(64) });
export const ToolParams = z.object({ id: z.string().min(1).max(64), name: z.string().min(1).max(64) });
export const IdParams = z.object({ id: z.string().min(1).max(64) });

export const InvokeTool = z
  .strictObject({
    arguments: z
      .record(z.string(), z.unknown())
      .default({})
      .openapi({
        description: `Checked against the tool's inputSchema after size caps: at most ${ARGUMENTS_MAX_BYTES} bytes as JSON, strings of at most ${ARGUMENT_STRING_MAX_CHARS} UTF-16 units, names of at most ${ARGUMENT_KEY_MAX_CHARS}, arrays of at most ${ARGUMENT_ARRAY_MAX_ITEMS} items, objects of at most ${ARGUMENT_OBJECT_MAX_PROPERTIES} properties, depth at most ${ARGUMENTS_MAX_DEPTH} (docs/sandbox.md, "Argument validation").`,
      }),
  })
  .openapi('InvokeToolRequest');

export const InvocationStatus = z.enum(['pending_approval', 'running', 'completed', 'failed', 'timed_out', 'denied', 'expired']);
export const InvocationView = z
  .object({
    id: z.string(),
    agentId: z.string(),
    tool: z.string(),
    status: InvocationStatus,
    exitCode: z.number().int().nullable(),
    stdout: z.string().nullable(),
    stderr: z.string().nullable(),
    truncated: z.boolean(),
    durationMs: z.number().int().nullable(),
    createdAt: z.number().int(),
    finishedAt: z.number().int().nullable(),
  })
  .openapi('ToolInvocation');
export const InvocationResult = z
  .object({
    id: z.string(),
    status: InvocationStatus,
    exitCode: z.number().int().nullable().optional(),
    stdout: z.string().optional(),
    stderr: z.string().optional(),
    truncated: z.boolean().optional(),
    durationMs: z.number().int().optional(),
  })
  .openapi('ToolInvocationResult');

export const ApprovalView = z
  .object({
    id: z.string(),
    agentId: z.string(),
    tool: z.string(),
    invocationId: z.string(),
    arguments: z.record(z.string(), z.unknown()).openapi({ description: 'The exact arguments the approval is bound to (redacted).' }),
    argumentsHash: z.string(),
    status: z.enum(['pending', 'approved', 'denied', 'expired']),
    createdAt: z.number().int(),
    expiresAt: z.number().int(),
  })
  .openapi('Approval');
export const ApprovalList = z.object({ approvals: z.array(ApprovalView) }).openapi('ApprovalList');
export const DecideApproval = z
  .strictObject({
    decision: z.enum(['approve', 'deny']),
    argumentsHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .openapi({ description: "When given, must equal the approval's hash: the approver confirms the arguments they saw." }),
  })
  .openapi('DecideApprovalRequest');
