/**
 * Transcript bounds and compaction (docs/agents.md "Storage"). A conversation keeps at most
 * MAX_TRANSCRIPT_MESSAGES entries and MAX_TRANSCRIPT_BYTES of (plaintext JSON) entries.
 * Compaction drops the oldest entries, whole exchanges at a time: the cut always lands on a
 * `user` entry, so an assistant tool call is never kept without its tool result (a provider
 * refuses such a history) and the model never sees half an exchange. The newest exchange is
 * always kept, even when it alone is over a bound (each entry is already capped: the user
 * text by the request limits, tool output by TOOL_OUTPUT_LIMIT_BYTES).
 */
export const MAX_TRANSCRIPT_MESSAGES = 200;
export const MAX_TRANSCRIPT_BYTES = 512 * 1024;

export interface EntryMeta {
  seq: number;
  bytes: number;
  role: string;
}

/** The seq from which to keep entries (everything before it is deleted), or null when within bounds. */
export function compactionCut(entries: readonly EntryMeta[], bounds: { maxMessages: number; maxBytes: number }): number | null {
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  if (entries.length <= bounds.maxMessages && total <= bounds.maxBytes) return null;
  const starts = entries.map((e, i) => (e.role === 'user' ? i : -1)).filter((i) => i >= 0);
  const lastStart = starts[starts.length - 1];
  if (lastStart === undefined || lastStart === 0) return null;
  let keepFrom = 0;
  for (const start of starts) {
    if (start === 0) continue;
    for (let i = keepFrom; i < start; i++) total -= entries[i]?.bytes ?? 0;
    keepFrom = start;
    if (entries.length - keepFrom <= bounds.maxMessages && total <= bounds.maxBytes) break;
  }
  return entries[keepFrom]?.seq ?? null;
}
