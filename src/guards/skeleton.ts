/**
 * The detection copy of a text: what a reader (a person, or a model reading tokens) would
 * take it to say once the disguises are peeled off. Guards match their patterns on this copy
 * and never send it anywhere; when they change a text, they change the original, at the
 * spans the copy maps back to.
 *
 * Folding, in order (each step on the output of the one before):
 * 1. HTML character references are decoded (`&lt;`, `&#x3c;`, `&LT`, `&sol;` …); one that
 *    decodes to `&` combines with the text after it, up to MAX_ENTITY_ROUNDS times, so
 *    `&amp;lt;` counts as `<` too;
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

/**
 * The character reference starting at `start` (an `&`), decoded, with the end of what it
 * consumed; a reference that decodes to `&` may combine with the text after it, up to
 * MAX_ENTITY_ROUNDS times (`&amp;lt;` → `&lt;` → `<`). Null when `start` starts no reference.
 */
function decodeEntityAt(text: string, start: number): { decoded: string; end: number } | null {
  let head = '';
  let end = start;
  let result: { decoded: string; end: number } | null = null;
  for (let round = 0; round < MAX_ENTITY_ROUNDS; round++) {
    ENTITY.lastIndex = 0;
    const match = ENTITY.exec(head + text.slice(end, end + 48));
    if (!match || match[0].length <= head.length) break;
    const decoded = decodeHTML(match[0]);
    if (decoded === match[0]) break;
    end += match[0].length - head.length;
    result = { decoded, end };
    if (decoded !== '&') break;
    head = decoded;
  }
  return result;
}

// Printable ASCII with no `&`: every step above is the identity but lower case (most tool output).
const PLAIN_ASCII = /^[\t\n\r\x20-\x25\x27-\x7e]*$/;
// Where a plain run ends: a reference, a control character, anything not ASCII.
// eslint-disable-next-line no-control-regex -- controls end a plain run
const SPECIAL = /[&\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\uffff]/g;

/** Builds the detection copy of `text` (see the list above), in one pass. */
export function skeletonOf(text: string): Skeleton {
  if (PLAIN_ASCII.test(text)) return { text: text.toLowerCase(), spanOf: (start, end) => ({ from: start, to: end }) };
  // Segment k covers folded positions [outStart[k], outStart[k+1]): a plain run maps one to one
  // onto the original from from[k]; any other segment maps as a whole onto [from[k], to[k]).
  const pieces: string[] = [];
  const outStart: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  const plain: boolean[] = [];
  let length = 0;
  const push = (piece: string, f: number, t: number, oneToOne: boolean) => {
    if (piece.length === 0) return;
    const last = pieces.length - 1;
    // A piece as long as its source, right after a one-to-one run, extends that run.
    if (
      (oneToOne || (piece.length === 1 && t - f === 1)) &&
      last >= 0 &&
      plain[last] &&
      (from[last] as number) + length - (outStart[last] as number) === f
    ) {
      pieces[last] += piece;
      length += piece.length;
      return;
    }
    oneToOne ||= piece.length === 1 && t - f === 1;
    pieces.push(piece);
    outStart.push(length);
    from.push(f);
    to.push(t);
    plain.push(oneToOne);
    length += piece.length;
  };
  let i = 0;
  while (i < text.length) {
    SPECIAL.lastIndex = i;
    const special = SPECIAL.exec(text);
    const next = special ? special.index : text.length;
    if (next > i) {
      push(text.slice(i, next).toLowerCase(), i, next, true);
      i = next;
      continue;
    }
    if (text[i] === '&') {
      const entity = decodeEntityAt(text, i);
      if (entity) {
        for (const codePoint of entity.decoded) push(foldCodePoint(codePoint), i, entity.end, false);
        i = entity.end;
      } else {
        push('&', i, i + 1, true);
        i++;
      }
      continue;
    }
    const codePoint = String.fromCodePoint(text.codePointAt(i) as number);
    push(foldCodePoint(codePoint), i, i + codePoint.length, false);
    i += codePoint.length;
  }
  const segmentAt = (position: number): number => {
    let low = 0;
    let high = outStart.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((outStart[middle] as number) <= position) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  return {
    text: pieces.join(''),
    spanOf(start, end) {
      if (outStart.length === 0) return { from: 0, to: 0 };
      const first = segmentAt(start);
      const last = segmentAt(Math.max(start, end - 1));
      return {
        from: plain[first] ? (from[first] as number) + start - (outStart[first] as number) : (from[first] as number),
        to: plain[last] ? (from[last] as number) + Math.max(start, end - 1) - (outStart[last] as number) + 1 : (to[last] as number),
      };
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
