/**
 * Tool arguments: validation against the tool's inputSchema (@cfworker/json-schema: no eval,
 * no remote refs, made for Workers), argv substitution and the on-miss allowlist match.
 * Pure functions.
 *
 * validateArguments, first refusal wins (the numbers of step 2 in docs/sandbox.md,
 * "Calling a tool"):
 *  2a. the stored schema no longer passes the install checks (input-schema.ts; a tool
 *      installed before a rule existed) → `schema-refused`: nothing is evaluated, so an
 *      unsafe pattern stored earlier never runs;
 *  2b. the arguments break a size cap (argument-limits.ts) → `over-limit`;
 *  2c. no schema and any argument, or a schema violation → `invalid`;
 *  2d. otherwise valid.
 */
import { Validator } from '@cfworker/json-schema';
import { argumentLimitBreach, type LimitBreach } from './argument-limits';
import { inputSchemaProblem, normalizedSchema, type Schema, type SchemaProblem } from './input-schema';

export type ArgumentsCheck =
  | { ok: true }
  | { ok: false; kind: 'schema-refused'; problem: SchemaProblem }
  | { ok: false; kind: 'over-limit'; breach: LimitBreach }
  | { ok: false; kind: 'invalid'; fields: string[] };

/** Segments of a URI-encoded JSON pointer (`#/a~1b/0`), as the validator reports locations. */
function segmentsOf(pointer: string): string[] {
  return pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((segment) => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `#/a/0` → `arguments.a.0`. */
function fieldOf(pointer: string): string {
  return ['arguments', ...segmentsOf(pointer)].join('.');
}

function at(root: unknown, pointer: string): unknown {
  return segmentsOf(pointer).reduce<unknown>(
    (node, key) =>
      typeof node === 'object' && node !== null && Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined,
    root,
  );
}

// Keywords that only summarise their subschemas' errors, which are reported themselves.
const SUMMARIES = new Set(['properties', 'items', 'additionalProperties']);

/** Paths (never values) of every violation, in the validator's order, each once. */
function violations(schema: Schema, args: Record<string, unknown>): string[] {
  const result = new Validator(schema, '2020-12', false).validate(args);
  const fields = new Set<string>();
  for (const error of result.errors) {
    if (SUMMARIES.has(error.keyword)) continue;
    if (error.keyword !== 'required') {
      fields.add(fieldOf(error.instanceLocation));
      continue;
    }
    // A missing property is reported at its object; name the property, as the old validator did.
    const required = at(schema, error.keywordLocation);
    const object = at(args, error.instanceLocation);
    for (const name of Array.isArray(required) ? required.map(String) : []) {
      if (typeof object === 'object' && object !== null && !Object.hasOwn(object, name))
        fields.add(`${fieldOf(error.instanceLocation)}.${name}`);
    }
  }
  return result.valid ? [] : fields.size > 0 ? [...fields] : ['arguments'];
}

/** Checks a call's arguments against the tool's stored inputSchema (precedence above). */
export function validateArguments(schema: Schema | undefined, args: Record<string, unknown>): ArgumentsCheck {
  // 2a.
  const problem = schema === undefined ? null : inputSchemaProblem(schema);
  if (problem) return { ok: false, kind: 'schema-refused', problem };
  // 2b.
  const breach = argumentLimitBreach(args);
  if (breach) return { ok: false, kind: 'over-limit', breach };
  // 2c.
  if (schema === undefined) return Object.keys(args).length === 0 ? { ok: true } : { ok: false, kind: 'invalid', fields: ['arguments'] };
  const fields = violations(normalizedSchema(schema), args);
  if (fields.length > 0) return { ok: false, kind: 'invalid', fields };
  // 2d.
  return { ok: true };
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
