/**
 * Tool manifest (capgate-compatible): `{name, version, grammar?, serverCapabilities?,
 * tools: [{name, description?, capabilities, inputSchema?, run?}]}` plus documentation
 * fields that never change the policy. `serverCapabilities` apply to every tool. `run`
 * says how a tool executes: an argv with `{arg}` placeholders, never a shell, or
 * an MCP server over stdio.
 */
import { z } from 'zod';
import { type Capability, type CapabilityOptions, parseCapability } from './capability';
import { type PolicyError, policyError } from './errors';
import { shapeError } from './manifest-errors';

/** The capgate grammar version this compiler implements (capgate's GRAMMAR_VERSION). */
export const GRAMMAR_VERSION = '0.0';

const Name = z.string().regex(/^[A-Za-z0-9@][A-Za-z0-9@/_.-]{0,127}$/);
const ToolName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
const Arg = z.string().min(1).max(4096);
const Doc = z.string().max(4096);
const Capabilities = z.array(z.string()).max(256);

const ArgvRun = z.object({ argv: z.array(Arg).min(1).max(256) }).strict();
const McpRun = z.object({ mcp: z.object({ command: z.array(Arg).min(1).max(256), tool: z.string().min(1).max(128) }).strict() }).strict();

/** MCP tool annotations are hints for clients; accepted and ignored (they grant nothing). */
const Annotations = z
  .record(z.string().max(64), z.union([z.string().max(1024), z.boolean(), z.number()]))
  .refine((value) => Object.keys(value).length <= 32);

export const ToolSchema = z
  .object({
    name: ToolName,
    title: Doc.optional(),
    description: Doc.optional(),
    $comment: Doc.optional(),
    annotations: Annotations.optional(),
    capabilities: Capabilities,
    inputSchema: z.record(z.string(), z.unknown()).optional(),
    run: z.union([ArgvRun, McpRun]).optional(),
  })
  .strict();

const Person = z.union([Doc, z.object({ name: Doc, email: Doc.optional(), url: Doc.optional() }).strict()]);

export const ManifestSchema = z
  .object({
    $schema: z.string().max(2048).optional(),
    $comment: Doc.optional(),
    name: Name,
    version: z.string().min(1).max(64),
    // Checked after the shape, so that any wrong pin reads MANIFEST_GRAMMAR.
    grammar: z.unknown().optional(),
    // Documentation only: part of the provenance hash, never of the policy.
    description: Doc.optional(),
    title: Doc.optional(),
    homepage: Doc.optional(),
    repository: z.union([Doc, z.object({ type: Doc.optional(), url: Doc, directory: Doc.optional() }).strict()]).optional(),
    license: Doc.optional(),
    author: Person.optional(),
    keywords: z.array(z.string().max(64)).max(64).optional(),
    serverCapabilities: Capabilities.optional(),
    tools: z.array(ToolSchema).min(1).max(256),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestTool = z.infer<typeof ToolSchema>;

export interface ParsedTool {
  tool: ManifestTool;
  /** The tool's own capabilities (serverCapabilities are in ParsedManifest, applied by normalizePolicy). */
  capabilities: Capability[];
}

export interface ParsedManifest {
  manifest: Manifest;
  /** Capabilities every tool gets (capgate's serverCapabilities). */
  serverCapabilities: Capability[];
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
    if (names === null)
      return policyError('MANIFEST_RUN_ARGV', `${runPath}.${i}`, element, 'a brace that is not part of a whole {name} placeholder.', {
        tool: toolIndex,
      });
    if (i === 0 && names.length > 0)
      return policyError(
        'MANIFEST_RUN_ARGV',
        `${runPath}.${i}`,
        element,
        'argv[0] is the binary and is fixed by the manifest; an argument may never choose it.',
        { tool: toolIndex },
      );
    const unknown = known ? names.find((name) => !known.has(name)) : undefined;
    if (unknown !== undefined)
      return policyError(
        'MANIFEST_RUN_ARGV',
        `${runPath}.${i}`,
        element,
        `the placeholder {${unknown}} is not a property of inputSchema.`,
        { tool: toolIndex },
      );
  }
  // argv[0] must be a bare binary name the tool (or the server) declares with exec:spawn:<name>.
  const binary = argv[0] ?? '';
  const declared = capabilities.some((cap) => cap.kind === 'exec' && cap.binary === binary);
  if (!declared) return policyError('MANIFEST_RUN_UNDECLARED_EXEC', `${runPath}.0`, binary, undefined, { tool: toolIndex });
  return null;
}

function checkGrammar(manifest: Manifest): PolicyError | null {
  if (!('grammar' in manifest) || manifest.grammar === undefined) return null;
  // Exact string: "0.0 ", "00.0", "0" or 0 are not the version we implement.
  if (manifest.grammar === GRAMMAR_VERSION) return null;
  return policyError(
    'MANIFEST_GRAMMAR',
    'grammar',
    manifest.grammar,
    `this compiler implements capgate grammar "${GRAMMAR_VERSION}" only, written exactly so (MAJOR.MINOR, no spaces or leading zeros); a manifest pinned to another grammar may mean something else by the same strings.`,
  );
}

function parseList(
  texts: string[],
  path: string,
  options: CapabilityOptions,
  toolIndex?: number,
): { ok: true; capabilities: Capability[] } | { ok: false; error: PolicyError } {
  const capabilities: Capability[] = [];
  for (const [index, text] of texts.entries()) {
    const parsed = parseCapability(text, options);
    if (!parsed.ok)
      return {
        ok: false,
        error: policyError(
          parsed.code,
          `${path}.${index}`,
          text,
          parsed.detail,
          toolIndex === undefined ? { index } : { tool: toolIndex, index },
        ),
      };
    capabilities.push(parsed.capability);
  }
  return { ok: true, capabilities };
}

/**
 * Validates shape, grammar pin, every capability string and every run entry; first error
 * wins. The numbers are docs/policy.md "Manifest checks" (8, TOOL_NOT_FOUND, is compile.ts).
 */
export function parseManifest(input: unknown, options: CapabilityOptions = {}): ManifestParse {
  // 1. Shape, unknown keys named.
  const shape = ManifestSchema.safeParse(input);
  if (!shape.success) return { ok: false, error: shapeError(shape.error.issues[0], input) };
  const manifest = shape.data;
  // 2. Grammar pin, exactly "0.0".
  const grammarError = checkGrammar(manifest);
  if (grammarError) return { ok: false, error: grammarError };
  // 3. serverCapabilities strings.
  const server = parseList(manifest.serverCapabilities ?? [], 'serverCapabilities', options);
  if (!server.ok) return server;
  const seen = new Set<string>();
  const tools: ParsedTool[] = [];
  for (const [toolIndex, tool] of manifest.tools.entries()) {
    // 4. Tool names unique.
    if (seen.has(tool.name))
      return {
        ok: false,
        error: policyError('MANIFEST_TOOL_DUPLICATE', `tools.${toolIndex}.name`, tool.name, undefined, { tool: toolIndex }),
      };
    seen.add(tool.name);
    // 5. The tool's capability strings.
    const own = parseList(tool.capabilities, `tools.${toolIndex}.capabilities`, options, toolIndex);
    if (!own.ok) return own;
    // 6–7. run placeholders, then argv[0] declared by exec:spawn (the tool's own or the server's).
    const runError = checkRun(tool, [...server.capabilities, ...own.capabilities], toolIndex);
    if (runError) return { ok: false, error: runError };
    tools.push({ tool, capabilities: own.capabilities });
  }
  return { ok: true, value: { manifest, serverCapabilities: server.capabilities, tools } };
}
