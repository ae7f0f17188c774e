/**
 * A tool's `inputSchema`: the subset of JSON Schema the gateway enforces, checked when a tool
 * is installed and again before each call (tools stored before a rule existed fail closed),
 * and the normalised copy handed to the validator.
 *
 * Supported keywords: type, properties, required, additionalProperties (boolean), items,
 * enum, const, minLength, maxLength, pattern, minimum, maximum, minItems, maxItems.
 * Annotations (title, description, default, examples, $schema, $comment) are ignored. Any
 * other keyword, a keyword with a value of the wrong kind, nesting deeper than
 * INPUT_SCHEMA_MAX_DEPTH, more than INPUT_SCHEMA_MAX_SUBSCHEMAS schemas, or a `pattern`
 * refused by pattern-safety.ts makes the schema
 * unsupported: the tool is refused rather than validated loosely (fail closed).
 */
import { type PatternRule, unsafePatternRule } from './pattern-safety';

export const INPUT_SCHEMA_MAX_DEPTH = 16;
/** Most (sub)schemas in one inputSchema: the schema is re-checked before every call, so its size is the cost of each call. */
export const INPUT_SCHEMA_MAX_SUBSCHEMAS = 256;

const VALIDATION_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
]);
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$schema', '$comment']);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);

export type Schema = Record<string, unknown>;

/** Why a schema is refused; `path` is dotted from `inputSchema` and never carries a value. */
export type SchemaProblem =
  | { kind: 'unsupported-keyword'; path: string }
  | { kind: 'invalid-keyword-value'; path: string }
  | { kind: 'too-deep'; path: string }
  | { kind: 'too-large'; path: string }
  | { kind: 'unsafe-pattern'; path: string; rule: PatternRule };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isCount = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isType = (value: unknown) => typeof value === 'string' && TYPES.has(value);

/** Whether a keyword's value has the kind the validator expects (subschemas are checked by the caller). */
function valueFits(key: string, value: unknown): boolean {
  switch (key) {
    case 'type':
      return isType(value) || (Array.isArray(value) && value.length > 0 && value.every(isType) && new Set(value).size === value.length);
    case 'properties':
      return isObject(value);
    case 'required':
      return Array.isArray(value) && value.every((name) => typeof name === 'string');
    case 'additionalProperties':
      return typeof value === 'boolean';
    case 'items':
      return isObject(value);
    case 'enum':
      return Array.isArray(value);
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
      return isCount(value);
    case 'minimum':
    case 'maximum':
      return typeof value === 'number' && Number.isFinite(value);
    case 'pattern':
      return typeof value === 'string';
    default:
      return true;
  }
}

/** The first problem of a schema (depth-first, in key order), or null when it is inside the subset. */
export function inputSchemaProblem(schema: unknown): SchemaProblem | null {
  return check(schema, 'inputSchema', 0, { left: INPUT_SCHEMA_MAX_SUBSCHEMAS });
}

function check(schema: unknown, path: string, depth: number, budget: { left: number }): SchemaProblem | null {
  if (depth > INPUT_SCHEMA_MAX_DEPTH) return { kind: 'too-deep', path };
  if (--budget.left < 0) return { kind: 'too-large', path };
  if (!isObject(schema)) return { kind: 'invalid-keyword-value', path };
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key)) continue;
    const at = `${path}.${key}`;
    if (!VALIDATION_KEYWORDS.has(key)) return { kind: 'unsupported-keyword', path: at };
    if (!valueFits(key, value)) return { kind: 'invalid-keyword-value', path: at };
    if (key === 'pattern') {
      const rule = unsafePatternRule(value as string);
      if (rule) return { kind: 'unsafe-pattern', path: at, rule };
    }
    if (key === 'properties') {
      for (const [name, sub] of Object.entries(value as Schema)) {
        const problem = check(sub, `${at}.${name}`, depth + 1, budget);
        if (problem) return problem;
      }
    }
    if (key === 'items') {
      const problem = check(value, at, depth + 1, budget);
      if (problem) return problem;
    }
  }
  return null;
}

/**
 * The schema the validator runs: only the supported keywords (annotations dropped, so
 * nothing like `$schema` can steer the validator), and `additionalProperties: false` unless
 * the schema says `true` — undeclared arguments are refused, nothing unchecked reaches argv.
 * Call only on a schema inputSchemaProblem accepted.
 */
export function normalizedSchema(schema: Schema): Schema {
  const out: Schema = { additionalProperties: schema.additionalProperties === true };
  for (const [key, value] of Object.entries(schema)) {
    if (!VALIDATION_KEYWORDS.has(key) || key === 'additionalProperties') continue;
    if (key === 'properties')
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, sub]) => [name, normalizedSchema(sub)]),
      );
    else if (key === 'items') out.items = normalizedSchema(value as Schema);
    else out[key] = value;
  }
  return out;
}
