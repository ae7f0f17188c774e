/** installed_tools rows: lookup, view, and the manifest entry a row runs. */
import { and, eq } from 'drizzle-orm';
import { installedTools, type Database } from '../db';
import { ApiError } from '../http';
import { type ManifestTool } from '../policy';

export type InstalledToolRow = typeof installedTools.$inferSelect;

export async function findInstalledTool(db: Database, agentId: string, name: string): Promise<InstalledToolRow> {
  const [row] = await db
    .select()
    .from(installedTools)
    .where(and(eq(installedTools.agentId, agentId), eq(installedTools.name, name)))
    .limit(1);
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

/** The tool's own entry of its stored manifest (validated at install; re-checked here, fail closed). */
export function manifestToolOf(row: InstalledToolRow): ManifestTool {
  const tools = (row.manifest as { tools?: unknown }).tools;
  const entry = Array.isArray(tools) ? (tools as ManifestTool[]).find((tool) => tool?.name === row.name) : undefined;
  if (!entry) throw new ApiError('INTERNAL');
  return entry;
}

export function installedToolView(row: InstalledToolRow) {
  const manifest = row.manifest as { name?: unknown; version?: unknown; serverCapabilities?: unknown };
  const tool = manifestToolOf(row);
  // What the tool may do, as declared (server-wide first): reviewers and `portcullis doctor` read it.
  const serverCapabilities = Array.isArray(manifest.serverCapabilities) ? manifest.serverCapabilities.map(String) : [];
  return {
    name: row.name,
    description: tool.description ?? null,
    manifest: { name: String(manifest.name ?? ''), version: String(manifest.version ?? '') },
    capabilities: [...serverCapabilities, ...tool.capabilities],
    provenance: row.provenance,
    source: row.source,
    approval: row.approval,
    approvalAllowlist: row.approvalAllowlist,
    createdAt: row.createdAt,
  };
}
