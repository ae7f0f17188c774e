/**
 * Tool arguments: a small JSON Schema subset validator (no eval, no remote refs, so it runs
 * in Workers), argv substitution and the on-miss allowlist match. Pure functions.
 *
 * Supported keywords: type, properties, required, additionalProperties (boolean), items,
 * enum, const, minLength, maxLength, pattern, minimum, maximum, minItems, maxItems.
 * Annotations (title, description, default, examples, $schema) are ignored. Any other
 * keyword makes the schema unsupported: the tool is refused at install time rather than
 * validated loosely at call time (fail closed).
 */

const VALIDATION_KEYWORDS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const',
  'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'minItems', 'maxItems',
]);
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$schema', '$comment']);
const MAX_DEPTH = 16;

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted path of the first unsupported keyword, or null when the schema is inside the subset. */
export function unsupportedSchemaKeyword(schema: unknown, path = 'inputSchema', depth = 0): string | null {
  if (!isObject(schema) || depth > MAX_DEPTH) return path;
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key)) continue;
    if (!VALIDATION_KEYWORDS.has(key)) return `${path}.${key}`;
    if (key === 'properties') {
      if (!isObject(value)) return `${path}.properties`;
      for (const [name, sub] of Object.entries(value)) {
        const bad = unsupportedSchemaKeyword(sub, `${path}.properties.${name}`, depth + 1);
        if (bad) return bad;
      }
    }
    if (key === 'items') {
      const bad = unsupportedSchemaKeyword(value, `${path}.items`, depth + 1);
      if (bad) return bad;
    }
    if (key === 'additionalProperties' && typeof value !== 'boolean') return `${path}.additionalProperties`;
    if (key === 'pattern') {
      try {
        new RegExp(String(value), 'u');
      } catch {
        return `${path}.pattern`;
      }
    }
  }
  return null;
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return isObject(value);
    case 'null': return value === null;
    default: return false;
  }
}

/** Paths (never values) of every violation; [] means valid. */
export function validateArguments(schema: Schema | undefined, value: unknown, path = 'arguments', depth = 0): string[] {
  if (schema === undefined) return isObject(value) && Object.keys(value).length === 0 ? [] : [path];
  if (depth > MAX_DEPTH) return [path];
  const errors: string[] = [];
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type.map(String) : [String(schema.type)];
  if (types.length > 0 && !types.some((type) => typeMatches(type, value))) return [path];
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) errors.push(path);
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) errors.push(path);
  if (typeof value === 'string') {
    const length = Array.from(value).length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) errors.push(path);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) errors.push(path);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(path);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(path);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(path);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) errors.push(path);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) errors.push(path);
    if (isObject(schema.items)) value.forEach((item, i) => errors.push(...validateArguments(schema.items as Schema, item, `${path}.${i}`, depth + 1)));
  }
  if (isObject(value)) {
    const properties = isObject(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
    for (const name of required) if (!(name in value)) errors.push(`${path}.${name}`);
    for (const [name, item] of Object.entries(value)) {
      const sub = properties[name];
      if (isObject(sub)) errors.push(...validateArguments(sub, item, `${path}.${name}`, depth + 1));
      // Undeclared arguments are refused unless the schema says otherwise: nothing unchecked reaches argv.
      else if (schema.additionalProperties !== true) errors.push(`${path}.${name}`);
    }
  }
  return errors;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]{0,63})\}/g;

/** The string an argument contributes to argv: strings as-is, numbers and booleans as JSON, anything else refused. */
function argText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return null;
}

/**
 * Replaces `{name}` placeholders inside each argv element. Each element stays exactly one
 * element whatever the value contains (spaces, quotes, `;`): there is never a shell.
 * A placeholder whose argument is missing or not a scalar → null (refused).
 */
export function substituteArgv(argv: readonly string[], args: Record<string, unknown>): string[] | null {
  const out: string[] = [];
  for (const element of argv) {
    let missing = false;
    const replaced = element.replace(PLACEHOLDER, (_match, name: string) => {
      const text = Object.hasOwn(args, name) ? argText(args[name]) : null;
      if (text === null) missing = true;
      return text ?? '';
    });
    if (missing) return null;
    out.push(replaced);
  }
  return out;
}

/** Longer argument values never match an allowlist pattern (they need approval): bounds the matcher's work. */
export const MAX_ALLOWLIST_MATCH_CHARS = 4096;

/** A `..` path segment anywhere: such a value never matches a pattern, so `/workspace/**` cannot be escaped. */
const DOT_DOT_SEGMENT = /(^|[/\\])\.\.([/\\]|$)/;

/**
 * Glob match for the on-miss allowlist: `*` is any run of characters except `/`, `**` any run
 * at all, everything else literal. Dynamic programming over (pattern, text), O(p·t), no regex
 * built from input (no catastrophic backtracking).
 */
export function globMatches(glob: string, text: string): boolean {
  if (text.length > MAX_ALLOWLIST_MATCH_CHARS || DOT_DOT_SEGMENT.test(text)) return false;
  const tokens: Array<string | 'STAR' | 'GLOBSTAR'> = [];
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '*') {
      if (glob[i + 1] === '*') {
        tokens.push('GLOBSTAR');
        i++;
      } else tokens.push('STAR');
    } else tokens.push(glob[i] ?? '');
  }
  // reachable[j]: the tokens so far can consume exactly text[0..j).
  let reachable = new Array<boolean>(text.length + 1).fill(false);
  reachable[0] = true;
  for (const token of tokens) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    for (let j = 0; j <= text.length; j++) {
      if (token === 'STAR' || token === 'GLOBSTAR') {
        // Extend a run from any reachable start, stopping at '/' for a single star.
        if (reachable[j] || (j > 0 && next[j - 1] && (token === 'GLOBSTAR' || text[j - 1] !== '/'))) next[j] = true;
      } else if (j > 0 && reachable[j - 1] && text[j - 1] === token) next[j] = true;
    }
    reachable = next;
  }
  return reachable[text.length] ?? false;
}

/**
 * on-miss: a call needs no approval when one allowlist entry matches — every argument the
 * entry names is present, scalar, and matches its glob. Arguments the entry does not name
 * are unconstrained by it.
 */
export function allowlistCovers(allowlist: ReadonlyArray<Record<string, string>>, args: Record<string, unknown>): boolean {
  return allowlist.some((entry) =>
    Object.entries(entry).every(([name, glob]) => {
      const text = Object.hasOwn(args, name) ? argText(args[name]) : null;
      return text !== null && globMatches(glob, text);
    }),
  );
}
