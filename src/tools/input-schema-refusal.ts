/**
 * The one place a refused inputSchema (input-schema.ts, pattern-safety.ts) becomes wire text:
 * a message that names the rule and a field path, never the pattern or any other schema
 * value, and a short code for the audit log.
 */
import { INPUT_SCHEMA_MAX_DEPTH, INPUT_SCHEMA_MAX_SUBSCHEMAS, inputSchemaProblem, type Schema, type SchemaProblem } from './input-schema';
import { PATTERN_MAX_CHARS, PATTERN_UNANCHORED_MAX_REPEAT, type PatternRule } from './pattern-safety';

/** Rule number (docs/sandbox.md, "Patterns") and what it refuses. */
const PATTERN_RULES: Record<PatternRule, [number, string]> = {
  'too-long': [1, `longer than ${PATTERN_MAX_CHARS} characters`],
  syntax: [2, 'not a valid pattern under the u flag'],
  backreference: [3, 'backreferences are not supported'],
  lookaround: [4, 'lookahead and lookbehind are not supported'],
  'nested-quantifier': [5, 'a quantifier applies to something that is itself quantified'],
  'quantified-alternation': [6, 'a quantifier applies to a group containing |'],
  'ambiguous-alternation': [7, 'alternatives of a group can start with the same character or match the empty string'],
  'unanchored-quantifier': [
    8,
    `a quantifier repeating more than ${PATTERN_UNANCHORED_MAX_REPEAT} times in an alternative that does not start with ^`,
  ],
  'overlapping-quantifiers': [9, 'two quantifiers can match the same characters without a separating character'],
};

export interface SchemaRefusal {
  /** For the audit log: `unsupported-keyword`, `unsafe-pattern:nested-quantifier`, … */
  code: string;
  message: string;
  /** Dotted path, e.g. `manifest.tools.0.inputSchema.properties.a.pattern`. */
  field: string;
}

/** `prefix` locates the schema: `manifest.tools.0.` at install, empty for a stored tool's own schema. */
export function describeSchemaProblem(problem: SchemaProblem, prefix: string): SchemaRefusal {
  const field = `${prefix}${problem.path}`;
  switch (problem.kind) {
    case 'unsupported-keyword':
      return { code: problem.kind, field, message: "The tool's inputSchema uses a keyword this gateway does not enforce." };
    case 'invalid-keyword-value':
      return { code: problem.kind, field, message: "The tool's inputSchema has a keyword value of a kind this gateway does not enforce." };
    case 'too-deep':
      return { code: problem.kind, field, message: `The tool's inputSchema is nested deeper than ${INPUT_SCHEMA_MAX_DEPTH} levels.` };
    case 'too-large':
      return { code: problem.kind, field, message: `The tool's inputSchema has more than ${INPUT_SCHEMA_MAX_SUBSCHEMAS} schemas.` };
    case 'unsafe-pattern': {
      const [number, what] = PATTERN_RULES[problem.rule];
      return {
        code: `${problem.kind}:${problem.rule}`,
        field,
        message: `The tool's inputSchema pattern in ${field} is refused by pattern rule ${number} [${problem.rule}]: ${what}.`,
      };
    }
  }
}

/** The first refused inputSchema among a manifest's tools, or null. */
export function inputSchemaRefusal(tools: ReadonlyArray<{ inputSchema?: Schema }>): SchemaRefusal | null {
  for (const [index, tool] of tools.entries()) {
    const problem = tool.inputSchema ? inputSchemaProblem(tool.inputSchema) : null;
    if (problem) return describeSchemaProblem(problem, `manifest.tools.${index}.`);
  }
  return null;
}
