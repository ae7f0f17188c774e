/**
 * The output filter on every reply, before sendReply splits it for the platform (length is
 * not this filter's job). Steps, in order (docs/agents.md "Guards", output):
 * 1. vault redaction through the injected `redact` (the workspace redactor: every stored
 *    secret in every form of src/protocol/secret-forms.ts) — in every mode, `off` included:
 *    it is the vault's promise, not a heuristic;
 * 2. internal markers stripped (the untrusted-content wrapper markers and their look-alikes,
 *    wrap.ts) — in every mode: they mean nothing to a reader;
 * 3. mass mentions: `@everyone`, `@here`, `<!channel>`, `<!here>`, `<!everyone>`, Slack
 *    `<!subteam^…>` and Discord role mentions `<@&…>`, matched on the detection copy
 *    (skeleton.ts), so zero-width, full-width and homoglyph spellings count too;
 * 4. raw HTML that fetches or runs something: elements of FETCHING_ELEMENTS, and any tag with
 *    a URL-bearing attribute (src, href, srcset, action, formaction, poster, background, data);
 * 5. markdown images (`![alt](url)`, `![alt][ref]` with its `[ref]: url`) whose host is not in
 *    `knownHosts` (exact, lower-case host names; relative and `data:` URLs are never known):
 *    a chat client that renders the image fetches the URL, and the URL can carry data out;
 * 6. otherwise the text passes.
 * Steps 3–5: `block` rewrites (each finding becomes a bracketed notice), `warn` records and
 * leaves the text, `off` skips them. Outcome: `blocked` when the text was changed by any step,
 * `warned` when steps 3–5 found something they left, `pass` otherwise.
 */
import type { GuardMode, GuardVerdict } from './settings';
import { skeletonOf } from './skeleton';
import { MARKER_LOOKALIKE, neutraliseMarkers } from './wrap';

export const MENTION_REMOVED = '[mass mention removed]';
export const HTML_REMOVED = '[html removed]';
export const IMAGE_REMOVED = '[image removed]';

/** Mass mentions on the detection copy (lower case, invisible characters dropped); not inside an e-mail address. */
const MASS_MENTION = /(?<![a-z0-9._%+-])@(?:everyone|here|channel)\b|<!(?:channel|here|everyone|subteam\^[^>\s]*)[^<>]*>|<@&\d+>/g;

/** Elements that fetch, run or restyle something whatever their attributes (HTML is case-insensitive). */
export const FETCHING_ELEMENTS = [
  'applet', 'base', 'bgsound', 'embed', 'form', 'frame', 'frameset', 'iframe', 'link', 'math', 'meta', 'object', 'portal',
  'script', 'style', 'svg', 'template', 'xml',
]; // prettier-ignore

// A tag name follows `<` or `</` directly (HTML's own rule), so `a < b` is not a tag.
const FETCHING_TAG = new RegExp(`</?(?:${FETCHING_ELEMENTS.join('|')})\\b[^<>]*>`, 'gi');
const URL_ATTRIBUTE_TAG = /<[a-z][a-z0-9-]*\b[^<>]*\b(?:src|href|srcset|action|formaction|poster|background|data)\s*=[^<>]*>/gi;
/** Code blocks and code spans are shown literally by every chat client: HTML and images inside them never load. */
const CODE = /(```[\s\S]*?(?:```|$)|~~~[\s\S]*?(?:~~~|$)|`[^`\n]*`)/;

// ![alt](<url> "title") / ![alt](url "title") / ![alt][ref] / ![alt][] / ![ref]
// Alt text: no bracket but one level of balanced brackets (CommonMark allows them); URL: no
// bracket, parenthesis or space. Each part stops at the next bracket, so no pattern rescans
// the text behind it (linear time on hostile input such as `![x](` repeated).
const ALT = String.raw`((?:[^\[\]\\\n]|\\.|\[(?:[^\[\]\\\n]|\\.)*\])*)`;
const INLINE_IMAGE = new RegExp(
  String.raw`!\[${ALT}\]\(\s*(<[^<>\n]*>|[^\s()\[\]<>]*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?\s*\)`,
  'g',
);
const REFERENCE_IMAGE = new RegExp(String.raw`!\[${ALT}\](?:\[((?:[^\[\]\\\n]|\\.)*)\])?`, 'g');
const REFERENCE_DEFINITION = /^[ ]{0,3}\[((?:[^\]\\]|\\.)+)\]:\s*(<[^>]*>|\S+)/gm;

export interface FilterOptions {
  redact: (text: string) => Promise<string>;
  /** Hosts images may load from (exact, case-insensitive). */
  knownHosts?: readonly string[];
  /** The agent's `guards.output` (default block). */
  mode?: GuardMode;
}

function hostOf(url: string): string | null {
  const bare = url.startsWith('<') && url.endsWith('>') ? url.slice(1, -1) : url;
  // Renderers and WHATWG URL disagree on `\`, userinfo and odd characters: such a URL is never known.
  if (/[\\@\s]|[^\x21-\x7e]/.test(bare)) return null;
  try {
    const parsed = new URL(bare);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.hostname.toLowerCase() : null;
  } catch {
    return null;
  }
}

function normaliseLabel(label: string): string {
  return label.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Steps 3–5 on one text: what was found and, in block mode, the rewritten text. */
function findAndRewrite(text: string, known: ReadonlySet<string>, rewrite: boolean): { text: string; reasons: Set<string> } {
  const reasons = new Set<string>();
  let out = text;

  // 3. Mass mentions, on the detection copy, replaced in the original.
  const skeleton = skeletonOf(out);
  const spans = [...skeleton.text.matchAll(MASS_MENTION)].map((m) => skeleton.spanOf(m.index, m.index + m[0].length));
  if (spans.length > 0) {
    reasons.add('mass-mention');
    if (rewrite) {
      let next = '';
      let cursor = 0;
      for (const span of spans.sort((a, b) => a.from - b.from)) {
        if (span.from < cursor) continue;
        next += out.slice(cursor, span.from) + MENTION_REMOVED;
        cursor = span.to;
      }
      out = next + out.slice(cursor);
    }
  }

  // 4 and 5 outside code (odd pieces of the split are code).
  const pieces = out.split(CODE);
  const prose = pieces.filter((_, i) => i % 2 === 0).join('\n');
  const definitions = new Map<string, string>();
  for (const m of prose.matchAll(REFERENCE_DEFINITION)) definitions.set(normaliseLabel(m[1] as string), m[2] as string);
  const allowed = (url: string | undefined) => {
    const host = url === undefined ? null : hostOf(url);
    return host !== null && known.has(host);
  };
  const removedLabels = new Set<string>();
  const image = (whole: string, alt: string, url: string | undefined, label?: string) => {
    if (allowed(url)) return whole;
    if (label !== undefined && rewrite) removedLabels.add(label);
    reasons.add('image-unknown-host');
    return rewrite ? `${alt ? `${alt} ` : ''}${IMAGE_REMOVED}` : whole;
  };
  out = pieces
    .map((piece, i) => {
      if (i % 2 === 1) return piece;
      let next = piece;
      // 4. Raw HTML that fetches or runs something.
      for (const pattern of [FETCHING_TAG, URL_ATTRIBUTE_TAG]) {
        next = next.replace(pattern, (tag) => {
          reasons.add('raw-html');
          return rewrite ? HTML_REMOVED : tag;
        });
      }
      // 5. Markdown images to hosts nobody listed.
      next = next.replace(INLINE_IMAGE, (whole, alt: string, url: string) => image(whole, alt, url));
      next = next.replace(REFERENCE_IMAGE, (whole, alt: string, ref: string | undefined) => {
        const label = normaliseLabel(ref ? ref : alt);
        const url = definitions.get(label);
        // Without a definition it is not an image, only text in brackets.
        return url === undefined ? whole : image(whole, alt, url, label);
      });
      return next;
    })
    .map((piece, i) =>
      // The definition of a removed image goes too: its URL is the part that carries data.
      i % 2 === 1 || removedLabels.size === 0
        ? piece
        : piece.replace(REFERENCE_DEFINITION, (line, label: string) => (removedLabels.has(normaliseLabel(label)) ? IMAGE_REMOVED : line)),
    )
    .join('');
  return { text: out, reasons };
}

/** Filters one reply (steps above). Never throws on content; `redact` errors propagate (fail closed). */
export async function filterReply(text: string, opts: FilterOptions): Promise<{ text: string; verdict: GuardVerdict }> {
  const mode = opts.mode ?? 'block';
  const reasons = new Set<string>();
  let out = await opts.redact(text);
  if (out !== text) reasons.add('vault-secret');
  const markers = neutraliseMarkers(out);
  if (markers.count > 0) {
    reasons.add('internal-marker');
    out = stripMarkers(out);
  }
  let changed = out !== text;
  let found = false;
  if (mode !== 'off') {
    const known = new Set((opts.knownHosts ?? []).map((host) => host.toLowerCase()));
    const result = findAndRewrite(out, known, mode === 'block');
    for (const reason of result.reasons) reasons.add(reason);
    found = result.reasons.size > 0;
    if (result.text !== out) changed = true;
    out = result.text;
  }
  const outcome = changed ? 'blocked' : found ? 'warned' : 'pass';
  return { text: out, verdict: { guard: 'output', mode, outcome, reasons: [...reasons] } };
}

/** Internal markers removed outright, the whole tag where there is one (the model echoing a wrapper). */
function stripMarkers(text: string): string {
  const skeleton = skeletonOf(text);
  const tag = new RegExp(`(?:${MARKER_LOOKALIKE.source})[^<>\\n]{0,200}>?`, 'g');
  let out = '';
  let cursor = 0;
  for (const m of skeleton.text.matchAll(tag)) {
    const span = skeleton.spanOf(m.index, m.index + m[0].length);
    if (span.from < cursor) continue;
    out += text.slice(cursor, span.from);
    cursor = span.to;
  }
  return out + text.slice(cursor);
}
