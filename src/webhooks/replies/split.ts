/**
 * Splitting a reply into platform messages. Lengths are counted in UTF-16 code units
 * (JavaScript's `length`), which is never less than the count of characters the platforms
 * limit (Telegram counts UTF-16 units itself; Discord and Slack count characters), so a part
 * that fits here fits there.
 */

/** What is appended to the last message when a reply has more parts than a reply may send. */
export const TRUNCATION_NOTICE = '\n[reply truncated]';

/** A cut is only made at a newline or a space when it keeps at least this share of the limit. */
const MIN_FILL = 0.5;
/** Longest entity Slack's escaping produces (`&amp;`), with room to spare. */
const MAX_ENTITY_CHARS = 8;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The largest index ≤ `at` that does not fall between the two halves of a surrogate pair. */
function safeIndex(text: string, at: number): number {
  return at > 0 && at < text.length && isHighSurrogate(text.charCodeAt(at - 1)) ? at - 1 : at;
}

/**
 * Where to cut `text` (longer than `limit`): the last newline, else the last space or tab,
 * that leaves a part of at least half the limit (the separator itself is dropped); otherwise
 * a hard cut at the limit, moved back so it never splits a surrogate pair or, where `entities`
 * is set, an HTML entity such as `&amp;` (Slack's escaped text).
 */
function cutPoint(text: string, limit: number, entities: boolean): { end: number; resume: number } {
  const window = text.slice(0, limit + 1);
  const floor = Math.ceil(limit * MIN_FILL);
  for (const separators of [/\n/g, /[ \t]/g]) {
    let last = -1;
    for (const match of window.matchAll(separators)) last = match.index;
    if (last >= floor) return { end: last, resume: last + 1 };
  }
  const end = hardEnd(text, limit, entities);
  return { end, resume: end };
}

/** `at`, moved back (never to 0) so it splits neither a surrogate pair nor, with `entities`, an `&…;` entity. */
function hardEnd(text: string, at: number, entities: boolean): number {
  const end = safeIndex(text, at);
  if (!entities) return end;
  const amp = text.lastIndexOf('&', end - 1);
  return amp > 0 && end - amp < MAX_ENTITY_CHARS && !text.slice(amp, end).includes(';') ? amp : end;
}

/** A code fence (Discord and Slack markdown). */
const FENCE = '```';
/** A language tag carried over to a reopened fence (`ts`, `python`, `c++`); anything longer is dropped. */
const FENCE_LANG = /^[A-Za-z0-9_+#.-]{1,16}(?=\n)/;
/** Room kept in each part for a reopened fence with its tag and a closing one. */
const FENCE_RESERVE = FENCE.length + 16 + 1 + 1 + FENCE.length;

/**
 * A code block cut in two would turn the rest of the reply into code, or the rest of the
 * code into prose: a part that ends inside a block closes it, and the next part reopens it
 * (with its language tag). Fences are counted as every ``` (both platforms also read an
 * inline ```x``` as a block).
 */
function balanceFences(parts: string[]): string[] {
  let lang: string | null = null; // the open block's tag at the start of a part; null = no block open
  return parts.map((part) => {
    const text = lang === null ? part : `${FENCE}${lang}\n${part}`;
    let open = lang !== null;
    let tag = lang ?? '';
    for (let at = part.indexOf(FENCE); at >= 0; at = part.indexOf(FENCE, at + FENCE.length)) {
      open = !open;
      if (open) tag = FENCE_LANG.exec(part.slice(at + FENCE.length))?.[0] ?? '';
    }
    lang = open ? tag : null;
    return open ? `${text}\n${FENCE}` : text;
  });
}

export interface SplitOptions {
  /** Longest part, in UTF-16 code units. */
  limit: number;
  /** At most this many parts; the rest is dropped and the last part ends with TRUNCATION_NOTICE. */
  maxParts: number;
  /** The text is HTML-escaped (Slack): never cut inside `&…;`. */
  entities?: boolean;
  /** The platform reads markdown code fences (Discord, Slack): a block cut in two is closed and reopened. */
  fences?: boolean;
}

/**
 * Splits `text` into at most `maxParts` parts of at most `limit` units each, in order,
 * preferring newlines, then spaces. Blank parts are dropped; an empty or blank text gives
 * no part at all. With `fences`, a code block cut between parts is closed and reopened.
 */
export function splitReplyText(text: string, options: SplitOptions): string[] {
  const { maxParts } = options;
  const entities = options.entities ?? false;
  const fences = options.fences ?? false;
  // With fences, every part keeps room for a reopened and a closing fence.
  const limit = fences ? options.limit - FENCE_RESERVE : options.limit;
  if (!Number.isInteger(limit) || limit < TRUNCATION_NOTICE.length + 2 || !Number.isInteger(maxParts) || maxParts < 1)
    throw new RangeError('splitReplyText: limit or maxParts out of range');
  if (text.length <= options.limit) return text.trim() === '' ? [] : [text];
  const parts = splitParts(text, limit, maxParts, entities);
  return fences && parts.length > 1 ? balanceFences(parts) : parts;
}

function splitParts(text: string, limit: number, maxParts: number, entities: boolean): string[] {
  const parts: string[] = [];
  let rest = text;
  // One part more than allowed tells us that the reply was truncated.
  while (rest.length > 0 && parts.length <= maxParts) {
    if (rest.length <= limit) {
      if (rest.trim() !== '') parts.push(rest);
      break;
    }
    const { end, resume } = cutPoint(rest, limit, entities);
    const part = rest.slice(0, end);
    if (part.trim() !== '') parts.push(part);
    rest = rest.slice(resume);
  }
  if (parts.length <= maxParts) return parts;
  const shown = parts.slice(0, maxParts);
  const last = shown[maxParts - 1] ?? '';
  const room = last.length <= limit - TRUNCATION_NOTICE.length ? last.length : hardEnd(last, limit - TRUNCATION_NOTICE.length, entities);
  shown[maxParts - 1] = `${last.slice(0, room)}${TRUNCATION_NOTICE}`;
  return shown;
}
