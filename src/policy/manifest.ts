/**
 * Tool manifest (capgate-compatible): `{name, version, tools: [{name, description?,
 * capabilities, inputSchema?, run?}]}`. `run` says how a tool executes (issue 8): an argv
 * with `{arg}` placeholders, never a shell, or an MCP server over stdio.
 */
import { z } from 'zod';
import { type Capability, type CapabilityOptions, parseCapability } from './capability';
import type { PolicyError } from './errors';

const Name = z.string().regex(/^[A-Za-z0-9@][A-Za-z0-9@/_.-]{0,127}$/);
const ToolName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
const Arg = z.string().min(1).max(4096);

const ArgvRun = z.object({ argv: z.array(Arg).min(1).max(256) }).strict();
const McpRun = z.object({ mcp: z.object({ command: z.array(Arg).min(1).max(256), tool: z.string().min(1).max(128) }).strict() }).strict();

export const ToolSchema = z
  .object({
    name: ToolName,
    description: z.string().max(4096).optional(),
    capabilities: z.array(z.string()).max(256),
    inputSchema: z.record(z.string(), z.unknown()).optional(),
    run: z.union([ArgvRun, McpRun]).optional(),
  })
  .strict();

export const ManifestSchema = z
  .object({
    $schema: z.string().max(2048).optional(),
    name: Name,
    version: z.string().min(1).max(64),
    description: z.string().max(4096).optional(),
    tools: z.array(ToolSchema).min(1).max(256),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestTool = z.infer<typeof ToolSchema>;

export interface ParsedTool {
  tool: ManifestTool;
  capabilities: Capability[];
}

export interface ParsedManifest {
  manifest: Manifest;
  tools: ParsedTool[];
}

export type ManifestParse = { ok: true; value: ParsedManifest } | { ok: false; error: PolicyError };

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]{0,63})\}/g;

/**
 * A run argv element: literal text with whole `{name}` placeholders. Stray braces are
 * refused so that nobody can guess how an unmatched one would be substituted.
 */
function placeholdersOf(element: string): string[] | null {
  const names = [...element.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
  if (/[{}]/.test(element.replace(PLACEHOLDER, ''))) return null;
  return names;
}

function checkRun(tool: ManifestTool, capabilities: Capability[], toolIndex: number): PolicyError | null {
  if (!tool.run) return null;
  const argv = 'argv' in tool.run ? tool.run.argv : tool.run.mcp.command;
  const runPath = 'argv' in tool.run ? `tools.${toolIndex}.run.argv` : `tools.${toolIndex}.run.mcp.command`;
  const properties = tool.inputSchema?.properties;
  const known = properties && typeof properties === 'object' ? new Set(Object.keys(properties)) : null;
  for (const [i, element] of argv.entries()) {
    const names = placeholdersOf(element);
    // The binary is fixed by the manifest; an argument may never choose it.
    if (names === null || (i === 0 && names.length > 0)) return { code: 'MANIFEST_RUN_ARGV', path: `${runPath}.${i}`, tool: toolIndex };
    if (known && names.some((name) => !known.has(name))) return { code: 'MANIFEST_RUN_ARGV', path: `${runPath}.${i}`, tool: toolIndex };
  }
  // argv[0] must be a bare binary name the tool declares with exec:spawn:<name>.
  const binary = argv[0] ?? '';
  const declared = capabilities.some((cap) => cap.kind === 'exec' && cap.binary === binary);
  if (!declared) return { code: 'MANIFEST_RUN_UNDECLARED_EXEC', path: `${runPath}.0`, tool: toolIndex };
  return null;
}

/** Validates shape, every capability string and every run entry; first error wins. */
export function parseManifest(input: unknown, options: CapabilityOptions = {}): ManifestParse {
  const shape = ManifestSchema.safeParse(input);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return { ok: false, error: { code: 'MANIFEST_SHAPE', path } };
  }
  const manifest = shape.data;
  const seen = new Set<string>();
  const tools: ParsedTool[] = [];
  for (const [toolIndex, tool] of manifest.tools.entries()) {
    if (seen.has(tool.name)) return { ok: false, error: { code: 'MANIFEST_TOOL_DUPLICATE', path: `tools.${toolIndex}.name`, tool: toolIndex } };
    seen.add(tool.name);
    const capabilities: Capability[] = [];
    for (const [index, text] of tool.capabilities.entries()) {
      const parsed = parseCapability(text, options);
      if (!parsed.ok) {
        return { ok: false, error: { code: parsed.code, path: `tools.${toolIndex}.capabilities.${index}`, tool: toolIndex, index } };
      }
      capabilities.push(parsed.capability);
    }
    const runError = checkRun(tool, capabilities, toolIndex);
    if (runError) return { ok: false, error: runError };
    tools.push({ tool, capabilities });
  }
  return { ok: true, value: { manifest, tools } };
}
