/**
 * What `tools/list` says about an installed tool. The annotations are derived from the
 * capabilities the tool declares (server-wide and its own), never from its description,
 * and claim as little as possible: a capability that does not parse counts as writing and
 * as reaching the network (a wrong "read-only" hint would be worse than a missing one).
 * MCP annotations are hints for the client; the gateway enforces the capabilities itself.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { parseCapability } from '../policy';
import { installedToolView, manifestToolOf, type InstalledToolRow } from '../tools';

/** `_meta` key naming the tool's approval mode (`never`, `always`, `on-miss`). */
export const APPROVAL_META_KEY = 'portcullis/approval';

function capabilityEffects(capabilities: readonly string[]): { writes: boolean; network: boolean } {
  let writes = false;
  let network = false;
  for (const text of capabilities) {
    const parsed = parseCapability(text);
    if (!parsed.ok) {
      writes = true;
      network = true;
      continue;
    }
    const capability = parsed.capability;
    if (capability.kind === 'net') network = true;
    if (capability.kind === 'fs' && capability.actions.some((action) => action !== 'read')) writes = true;
    // A socket can carry anything, and a nested sandbox runs arbitrary code: not read-only.
    if (capability.kind === 'ipc' || (capability.kind === 'exec' && capability.nestedSandbox)) writes = true;
  }
  return { writes, network };
}

const APPROVAL_NOTE: Record<InstalledToolRow['approval'], string> = {
  never: '',
  always: " Every call waits for an operator's approval.",
  'on-miss': " Calls outside the operator's allowlist wait for an operator's approval.",
};

/** One entry of `tools/list`. */
export function mcpToolOf(row: InstalledToolRow): Tool {
  const entry = manifestToolOf(row);
  const view = installedToolView(row);
  const { writes, network } = capabilityEffects(view.capabilities);
  return {
    name: row.name,
    description: `${entry.description ?? `The tool "${row.name}".`}${APPROVAL_NOTE[row.approval]}`,
    // MCP requires an object schema; a tool that declares none takes an object (validateArguments decides what passes).
    inputSchema: (entry.inputSchema ?? { type: 'object' }) as Tool['inputSchema'],
    annotations: {
      readOnlyHint: !writes && !network,
      // Only meaningful when not read-only (MCP 2025-06-18 ToolAnnotations): the gateway cannot know, so it says "may".
      ...(writes || network ? { destructiveHint: true } : {}),
      openWorldHint: network,
    },
    _meta: { [APPROVAL_META_KEY]: row.approval },
  };
}
