/**
 * The detection copy of a text: what a reader (a person, or a model reading tokens) would
 * take it to say once the disguises are peeled off. Guards match their patterns on this copy
 * and never send it anywhere; when they change a text, they change the original, at the
 * spans the copy maps back to.
 *
 * Folding, in order (each step on the output of the one before):
 * 1. HTML character references are decoded (`&lt;`, `&#x3c;`, `&LT`, `&sol;` …), up to
 *    MAX_ENTITY_ROUNDS times, so `&amp;lt;` counts as `<` too;
 * 2. each code point is NFKC-normalised (full-width `＜` → `<`, ligatures, compatibility forms);
 * 3. invisible code points are dropped: format characters (zero-width space/joiners, bidi
 *    controls, the word joiner, Unicode tag characters), variation selectors, combining marks,
 *    fillers, control characters other than tab and line breaks;
 * 4. a non-ASCII code point left over is replaced by its Unicode confusable prototype
 *    (unhomoglyph: TR39 confusables.txt), first lower-cased (Cyrillic `І` → `і` → `i`, not
 *    `l`), then as written, then upper-cased (Cyrillic `т` → `Т` → `T`), then with its
 *    diacritics removed, whichever first gives ASCII;
 * 5. everything is lower-cased.
 * ASCII is never folded by step 4 (`m` stays `m`, not `rn`).
 */
import { decodeHTML } from 'entities';
import confusables from 'unhomoglyph/data.json';

export const MAX_ENTITY_ROUNDS = 3;

/** One code point of the folded copy, with the span of the original it came from. */
interface Unit {
  text: string;
  from: number;
  to: number;
}

export interface Skeleton {
  /** The folded copy (for matching only). */
  text: string;
  /** The original span [from, to) behind folded positions [start, end). */
  spanOf(start: number, end: number): { from: number; to: number };
}

const PROTOTYPES = confusables as Record<string, string>;
// eslint-disable-next-line no-control-regex -- the whole ASCII range, controls included
const ASCII = /^[\x00-\x7f]*$/;
// Invisible: format (Cf: ZWSP, ZWJ, bidi, tags, …), marks, variation selectors, fillers, controls but \t \n \r.
const INVISIBLE = /^(?:\p{Cf}|\p{M}|\p{Variation_Selector}|\p{Cc}|[\u115f\u1160\u3164\uffa0])$/u;
const LINE_SPACING = /^[\t\n\r]$/;
const SMALL_CAPITALS: Record<string, string> = {
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm',
  ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z', ĸ: 'k',
}; // prettier-ignore
const ENTITY = /&(?:#[xX][0-9a-fA-F]{1,8};?|#[0-9]{1,8};?|[A-Za-z][A-Za-z0-9]{1,31};?)/y;

const folded = new Map<string, string>();

/** Steps 2–5 for one code point (memoised: a text has few distinct code points). */
export function foldCodePoint(codePoint: string): string {
  const known = folded.get(codePoint);
  if (known !== undefined) return known;
  let out = '';
  for (const part of codePoint.normalize('NFKC')) out += foldOne(part);
  if (folded.size < 65_536) folded.set(codePoint, out);
  return out;
}

function foldOne(part: string): string {
  if (LINE_SPACING.test(part)) return part;
  if (INVISIBLE.test(part)) return '';
  if (ASCII.test(part)) return part.toLowerCase();
  const small = SMALL_CAPITALS[part];
  if (small) return small;
  // Lower case first: the prototype of a capital I look-alike is `l`, of its small form `i`.
  const candidates = [
    PROTOTYPES[part.toLowerCase()],
    PROTOTYPES[part],
    PROTOTYPES[part.toUpperCase()],
    part.normalize('NFD').replace(/\p{M}/gu, ''),
  ];
  for (const candidate of candidates)
    if (candidate !== undefined && candidate !== '' && ASCII.test(candidate)) return candidate.toLowerCase();
  const prototype = PROTOTYPES[part];
  return (prototype !== undefined && SMALL_CAPITALS[prototype]) || part.toLowerCase();
}

function decodeEntities(units: Unit[]): { units: Unit[]; changed: boolean } {
  const text = units.map((unit) => unit.text).join('');
  if (!text.includes('&')) return { units, changed: false };
  // Offsets of each unit's text inside `text`, to map a decoded reference back to its units.
  const starts: number[] = [];
  let offset = 0;
  for (const unit of units) {
    starts.push(offset);
    offset += unit.text.length;
  }
  const out: Unit[] = [];
  let changed = false;
  let i = 0;
  while (i < units.length) {
    const unit = units[i] as Unit;
    if (unit.text === '&') {
      ENTITY.lastIndex = starts[i] as number;
      const match = ENTITY.exec(text);
      const decoded = match ? decodeHTML(match[0]) : '';
      if (match && decoded !== match[0]) {
        let j = i;
        const end = (starts[i] as number) + match[0].length;
        while (j < units.length && (starts[j] as number) < end) j++;
        for (const codePoint of decoded) out.push({ text: codePoint, from: unit.from, to: (units[j - 1] as Unit).to });
        changed = true;
        i = j;
        continue;
      }
    }
    out.push(unit);
    i++;
  }
  return { units: out, changed };
}

// Printable ASCII with no `&`: every step above is the identity but lower case (most tool output).
const PLAIN_ASCII = /^[\t\n\r\x20-\x25\x27-\x7e]*$/;

/** Builds the detection copy of `text` (see the list above). */
export function skeletonOf(text: string): Skeleton {
  if (PLAIN_ASCII.test(text)) return { text: text.toLowerCase(), spanOf: (start, end) => ({ from: start, to: end }) };
  let units: Unit[] = [];
  let at = 0;
  for (const codePoint of text) {
    units.push({ text: codePoint, from: at, to: at + codePoint.length });
    at += codePoint.length;
  }
  for (let round = 0; round < MAX_ENTITY_ROUNDS; round++) {
    const next = decodeEntities(units);
    units = next.units;
    if (!next.changed) break;
  }
  let out = '';
  const owner: number[] = [];
  units.forEach((unit, index) => {
    const piece = foldCodePoint(unit.text);
    out += piece;
    for (let k = 0; k < piece.length; k++) owner.push(index);
  });
  return {
    text: out,
    spanOf(start, end) {
      const first = units[owner[start] ?? units.length - 1] as Unit;
      const last = units[owner[Math.max(start, end - 1)] ?? units.length - 1] as Unit;
      return { from: first.from, to: last.to };
    },
  };
}

/** Only the folded text (for guards that detect and never rewrite). */
export function foldForDetection(text: string): string {
  return skeletonOf(text).text;
}

/**
 * Replaces, in the original text, every span whose folded copy matches `pattern` (global).
 * Overlapping spans are merged. Returns the new text and how many matches were replaced.
 */
export function replaceFolded(text: string, pattern: RegExp, replacement: string): { text: string; count: number } {
  const skeleton = skeletonOf(text);
  const spans: { from: number; to: number }[] = [];
  for (const match of skeleton.text.matchAll(pattern)) {
    if (match[0].length === 0) continue;
    spans.push(skeleton.spanOf(match.index, match.index + match[0].length));
  }
  if (spans.length === 0) return { text, count: 0 };
  spans.sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span.from < last.to) last.to = Math.max(last.to, span.to);
    else merged.push({ ...span });
  }
  let out = '';
  let cursor = 0;
  for (const span of merged) {
    out += text.slice(cursor, span.from) + replacement;
    cursor = span.to;
  }
  return { text: out + text.slice(cursor), count: spans.length };
}
