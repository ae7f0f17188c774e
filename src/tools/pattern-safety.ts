/**
 * Install-time refusal of `pattern`s that a backtracking engine can be made to run for a long
 * time. JSON Schema `pattern` is evaluated with the isolate's own RegExp (ECMA-262, `u` flag,
 * which is what @cfworker/json-schema compiles), so a pattern like `^(a+)+$` against 32 `a`s
 * and a `!` would pin the isolate. The pattern is parsed (regexpp, the parser ESLint uses)
 * and refused by the first rule it breaks; the rules are deliberately stricter than "known
 * catastrophic" so that what passes is linear in the input for each start position.
 *
 * Precedence (first match refuses; the numbers are the ones in docs/sandbox.md):
 *  1. longer than PATTERN_MAX_CHARS                                   → `too-long`
 *  2. not a valid ECMA-262 pattern under the `u` flag (ES2024: no `(?i:)` modifiers, no
 *     `v`-only syntax)                                                → `syntax`
 *  3. a backreference (`\1`, `\k<name>`)                              → `backreference`
 *  4. a lookahead or lookbehind                                       → `lookaround`
 *  5. a quantifier over something that contains a quantifier          → `nested-quantifier`
 *  6. a quantifier over a group that contains `|`                     → `quantified-alternation`
 *  7. a group whose alternatives can start with the same character, or one of which can
 *     match the empty string                                          → `ambiguous-alternation`
 *  8. a quantifier that may repeat more than PATTERN_UNANCHORED_MAX_REPEAT times (`*`, `+`,
 *     `{n,}`, `{n,m}` with m > 16) in an alternative that does not start with `^`: the
 *     engine re-runs it from every start position (quadratic)       → `unanchored-quantifier`
 *  9. a variable quantifier that can match a character a previous variable quantifier can,
 *     with no mandatory character between them that the previous one cannot match
 *                                                                     → `overlapping-quantifiers`
 * 10. otherwise the pattern is accepted.
 */
import { type AST, RegExpParser } from '@eslint-community/regexpp';
import { charSetOf, charsWithin, NONE, overlaps, union, type CharSet } from './pattern-charsets';

/** Longest accepted pattern, in UTF-16 code units. */
export const PATTERN_MAX_CHARS = 256;
/** Most repetitions a quantifier may allow in an alternative not anchored with `^`. */
export const PATTERN_UNANCHORED_MAX_REPEAT = 16;

export type PatternRule =
  | 'too-long'
  | 'syntax'
  | 'backreference'
  | 'lookaround'
  | 'nested-quantifier'
  | 'quantified-alternation'
  | 'ambiguous-alternation'
  | 'unanchored-quantifier'
  | 'overlapping-quantifiers';

type Branch = AST.Pattern | AST.Alternative | AST.Element;

function children(node: Branch): Branch[] {
  switch (node.type) {
    case 'Pattern':
    case 'Group':
    case 'CapturingGroup':
      return node.alternatives;
    case 'Alternative':
      return node.elements;
    case 'Quantifier':
      return [node.element];
    case 'Assertion':
      return node.kind === 'lookahead' || node.kind === 'lookbehind' ? node.alternatives : [];
    default:
      return [];
  }
}

function some(node: Branch, test: (node: Branch) => boolean): boolean {
  return test(node) || children(node).some((child) => some(child, test));
}

const isQuantifier = (node: Branch) => node.type === 'Quantifier';
const hasAlternation = (node: Branch) => (node.type === 'Group' || node.type === 'CapturingGroup') && node.alternatives.length > 1;
const isLongRepeat = (node: Branch) => node.type === 'Quantifier' && node.max > node.min && node.max > PATTERN_UNANCHORED_MAX_REPEAT;

/** First characters an alternative can start with, and whether it can match the empty string. */
function firstOf(elements: readonly AST.Element[]): { chars: CharSet; nullable: boolean } {
  let chars: CharSet = NONE;
  for (const element of elements) {
    if (element.type === 'Assertion') continue;
    if (element.type === 'Quantifier') {
      chars = union(chars, charsWithin(element.element));
      if (element.min === 0) continue;
      return { chars, nullable: false };
    }
    if (element.type === 'Group' || element.type === 'CapturingGroup') {
      const firsts = element.alternatives.map((alternative) => firstOf(alternative.elements));
      chars = firsts.reduce((set, first) => union(set, first.chars), chars);
      if (firsts.some((first) => first.nullable)) continue;
      return { chars, nullable: false };
    }
    if (element.type === 'Backreference') return { chars: null, nullable: true };
    return { chars: union(chars, charSetOf(element)), nullable: false };
  }
  return { chars, nullable: true };
}

function ambiguousAlternation(node: Branch): boolean {
  if (!hasAlternation(node) || (node.type !== 'Group' && node.type !== 'CapturingGroup')) return false;
  const firsts = node.alternatives.map((alternative) => firstOf(alternative.elements));
  if (firsts.some((first) => first.nullable)) return true;
  return firsts.some((a, i) => firsts.slice(i + 1).some((b) => overlaps(a.chars, b.chars)));
}

const OVERLAP = Symbol('overlap');

/**
 * Rule 9 over one sequence. `open` holds the characters that variable quantifiers still
 * "open" (not yet closed by a mandatory character they cannot match) may consume; a new
 * variable quantifier must not be able to consume any of them.
 */
function sequence(elements: readonly AST.Element[], open: CharSet): CharSet | typeof OVERLAP {
  let current = open;
  for (const element of elements) {
    if (element.type === 'Assertion') continue;
    if (element.type === 'Quantifier') {
      if (element.max === 0) continue;
      if (element.min === element.max) {
        // A fixed count behaves like its element written out; rule 5 left no quantifier inside.
        const after = sequence([element.element], current);
        if (after === OVERLAP) return OVERLAP;
        current = after;
        continue;
      }
      const chars = charsWithin(element.element);
      if (overlaps(current, chars)) return OVERLAP;
      current = element.min === 0 ? union(current, chars) : chars;
      continue;
    }
    if (element.type === 'Group' || element.type === 'CapturingGroup') {
      let after: CharSet = NONE;
      for (const alternative of element.alternatives) {
        const result = sequence(alternative.elements, current);
        if (result === OVERLAP) return OVERLAP;
        after = union(after, result);
      }
      current = after;
      continue;
    }
    if (element.type === 'Backreference') return OVERLAP;
    // A mandatory character closes what it cannot be consumed by.
    if (!overlaps(current, charSetOf(element))) current = NONE;
  }
  return current;
}

function parse(source: string): AST.Pattern | null {
  try {
    // Both must accept it: the parser (for the analysis) and the engine that will run it.
    new RegExp(source, 'u');
    return new RegExpParser({ ecmaVersion: 2024 }).parsePattern(source, 0, source.length, { unicode: true });
  } catch {
    return null;
  }
}

/** The first rule (above) a pattern breaks, or null when it is accepted. */
export function unsafePatternRule(source: string): PatternRule | null {
  // 1.
  if (source.length > PATTERN_MAX_CHARS) return 'too-long';
  // 2.
  const pattern = parse(source);
  if (!pattern) return 'syntax';
  // 3.
  if (some(pattern, (node) => node.type === 'Backreference')) return 'backreference';
  // 4.
  if (some(pattern, (node) => node.type === 'Assertion' && (node.kind === 'lookahead' || node.kind === 'lookbehind'))) return 'lookaround';
  // 5.
  if (some(pattern, (node) => node.type === 'Quantifier' && some(node.element, isQuantifier))) return 'nested-quantifier';
  // 6.
  if (some(pattern, (node) => node.type === 'Quantifier' && some(node.element, hasAlternation))) return 'quantified-alternation';
  // 7.
  if (some(pattern, ambiguousAlternation)) return 'ambiguous-alternation';
  for (const alternative of pattern.alternatives) {
    const first = alternative.elements[0];
    const anchored = first?.type === 'Assertion' && first.kind === 'start';
    // 8.
    if (!anchored && some(alternative, isLongRepeat)) return 'unanchored-quantifier';
    // 9.
    if (sequence(alternative.elements, NONE) === OVERLAP) return 'overlapping-quantifiers';
  }
  // 10.
  return null;
}
