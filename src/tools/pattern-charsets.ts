/**
 * Which characters a piece of a `pattern` can match, as code-point ranges, for the overlap
 * rules of pattern-safety.ts. Conservative by construction: whatever is not computed exactly
 * here (Unicode property escapes, `.`) is "any character", which can only make a pattern be
 * refused more often, never accepted wrongly.
 */
import type { AST } from '@eslint-community/regexpp';

/** Sorted, non-overlapping inclusive ranges of code points; `null` means "any character". */
export type CharSet = ReadonlyArray<readonly [number, number]> | null;

const MAX_CODE_POINT = 0x10ffff;
export const ANY: CharSet = null;
export const NONE: CharSet = [];
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
// ECMAScript WhiteSpace and LineTerminator (what \s matches).
const SPACE: CharSet = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);

function normalize(ranges: Array<readonly [number, number]>): Array<readonly [number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function union(a: CharSet, b: CharSet): CharSet {
  if (a === null || b === null) return ANY;
  return normalize([...a, ...b]);
}

function complement(set: CharSet): CharSet {
  // The complement of "unknown" is still unknown.
  if (set === null) return ANY;
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

export function overlaps(a: CharSet, b: CharSet): boolean {
  // The empty set overlaps nothing, not even "any character".
  if ((a !== null && a.length === 0) || (b !== null && b.length === 0)) return false;
  if (a === null || b === null) return true;
  return a.some(([alo, ahi]) => b.some(([blo, bhi]) => alo <= bhi && blo <= ahi));
}

type CharNode = AST.Character | AST.CharacterSet | AST.CharacterClass | AST.CharacterClassElement | AST.ExpressionCharacterClass;

function escapeSet(node: AST.EscapeCharacterSet): CharSet {
  const base = node.kind === 'digit' ? DIGIT : node.kind === 'word' ? WORD : SPACE;
  return node.negate ? complement(base) : base;
}

/** Characters one node can match (a single-character matcher). */
export function charSetOf(node: CharNode): CharSet {
  switch (node.type) {
    case 'Character':
      return [[node.value, node.value]];
    case 'CharacterClassRange':
      return [[node.min.value, node.max.value]];
    case 'CharacterSet':
      return node.kind === 'digit' || node.kind === 'word' || node.kind === 'space' ? escapeSet(node) : ANY;
    case 'CharacterClass': {
      let set: CharSet = [];
      for (const element of node.elements) set = union(set, charSetOf(element));
      return node.negate ? complement(set) : set;
    }
    default:
      // v-flag constructs never parse here (patterns are parsed with the u flag); unknown = any.
      return ANY;
  }
}

/** Every character any part of an element can match (used for quantified elements). */
export function charsWithin(node: AST.Element | AST.Alternative): CharSet {
  switch (node.type) {
    case 'Alternative':
      return node.elements.reduce<CharSet>((set, element) => union(set, charsWithin(element)), []);
    case 'Group':
    case 'CapturingGroup':
      return node.alternatives.reduce<CharSet>((set, alternative) => union(set, charsWithin(alternative)), []);
    case 'Quantifier':
      return charsWithin(node.element);
    case 'Assertion':
      return [];
    case 'Character':
    case 'CharacterSet':
    case 'CharacterClass':
    case 'ExpressionCharacterClass':
      return charSetOf(node);
    default:
      return ANY;
  }
}
