import { redactTokenShapes, truncateUtf8, utf8 } from '../lib';

/** Free-text fields are cut to this many UTF-8 bytes. */
export const MAX_FIELD_BYTES = 1024;
/** A whole exported event line (JSONL) stays within this many bytes. */
export const MAX_LINE_BYTES = 4096;
/** Room the envelope (ids, kind, actor, hashes, times) takes on a line, with margin. */
const ENVELOPE_BYTES = 768;
const MAX_ARRAY_ITEMS = 32;
export const TRUNCATION_MARKER = '…[truncated]';

function boundValue(value: unknown): unknown {
  if (typeof value === 'string') return truncateUtf8(redactTokenShapes(value), MAX_FIELD_BYTES, TRUNCATION_MARKER);
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY_ITEMS).map(boundValue);
    return value.length > MAX_ARRAY_ITEMS ? [...items, TRUNCATION_MARKER] : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, boundValue(inner)]));
  }
  return value;
}

/** Halves the longest string field until the serialised data fits the line budget. */
function fitLine(data: Record<string, unknown>, budget: number): Record<string, unknown> {
  let current = data;
  for (let round = 0; round < 64 && utf8(JSON.stringify(current)).length > budget; round++) {
    const entries = Object.entries(current);
    const longest = entries
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .sort((a, b) => b[1].length - a[1].length)[0];
    if (!longest) return { truncated: true };
    const [key, text] = longest;
    current = { ...current, [key]: truncateUtf8(text, Math.floor(utf8(text).length / 2), TRUNCATION_MARKER) };
  }
  return utf8(JSON.stringify(current)).length > budget ? { truncated: true } : current;
}

/**
 * Makes event data safe to store: token shapes redacted, each string at most
 * MAX_FIELD_BYTES, arrays bounded, and the whole event line within MAX_LINE_BYTES.
 */
export function boundEventData(data: object): Record<string, unknown> {
  return fitLine(boundValue(data) as Record<string, unknown>, MAX_LINE_BYTES - ENVELOPE_BYTES);
}
