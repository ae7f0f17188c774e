/**
 * Size caps on a call's arguments, checked before any schema keyword runs, so that the work
 * validation does (and what reaches argv) is bounded whatever the schema says. Every cap is
 * a named constant documented in docs/sandbox.md ("Argument limits").
 */

/** Total size of the arguments as JSON (UTF-8 bytes). */
export const ARGUMENTS_MAX_BYTES = 64 * 1024;
/** Longest string value, in UTF-16 code units (what a pattern's engine walks). */
export const ARGUMENT_STRING_MAX_CHARS = 8192;
/** Longest property name, in UTF-16 code units. */
export const ARGUMENT_KEY_MAX_CHARS = 128;
/** Most items in one array. */
export const ARGUMENT_ARRAY_MAX_ITEMS = 256;
/** Most properties in one object (the arguments object included). */
export const ARGUMENT_OBJECT_MAX_PROPERTIES = 64;
/** Deepest nesting; the arguments object itself is depth 1. */
export const ARGUMENTS_MAX_DEPTH = 16;

export type ArgumentLimit = 'total-bytes' | 'string-length' | 'key-length' | 'key-encoding' | 'array-items' | 'object-properties' | 'depth';

export interface LimitBreach {
  limit: ArgumentLimit;
  /** Dotted path of the offending value (`arguments.a.0`), never the value. */
  field: string;
}

// A lone surrogate cannot be encoded as a JSON pointer or UTF-8 (the validator reports paths as pointers).
const LONE_SURROGATE = /\p{Cs}/u;

function walk(value: unknown, path: string, depth: number): LimitBreach | null {
  if (depth > ARGUMENTS_MAX_DEPTH) return { limit: 'depth', field: path };
  if (typeof value === 'string') return value.length > ARGUMENT_STRING_MAX_CHARS ? { limit: 'string-length', field: path } : null;
  if (Array.isArray(value)) {
    if (value.length > ARGUMENT_ARRAY_MAX_ITEMS) return { limit: 'array-items', field: path };
    for (const [i, item] of value.entries()) {
      const breach = walk(item, `${path}.${i}`, depth + 1);
      if (breach) return breach;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length > ARGUMENT_OBJECT_MAX_PROPERTIES) return { limit: 'object-properties', field: path };
    for (const [key, item] of entries) {
      // The key is the caller's own text; past the cap it is not echoed back in the path.
      if (key.length > ARGUMENT_KEY_MAX_CHARS) return { limit: 'key-length', field: path };
      if (LONE_SURROGATE.test(key)) return { limit: 'key-encoding', field: path };
      const breach = walk(item, `${path}.${key}`, depth + 1);
      if (breach) return breach;
    }
  }
  return null;
}

/** The first cap the arguments break, or null. Total size first: it bounds the walk itself. */
export function argumentLimitBreach(args: Record<string, unknown>): LimitBreach | null {
  if (new TextEncoder().encode(JSON.stringify(args)).byteLength > ARGUMENTS_MAX_BYTES) return { limit: 'total-bytes', field: 'arguments' };
  return walk(args, 'arguments', 1);
}
