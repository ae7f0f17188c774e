/**
 * The forms of a secret that redaction removes, and the redactors built on them. Pure (only
 * src/lib, its strict base64 codec included): the Worker redacts results with it and the runner's
 * egress proxy scrubs responses with it before they reach a sandbox.
 */
import { REDACTED, utf8 } from '../lib';
import { encodeBase64 } from '../lib';

/**
 * Redaction of known secret values (docs/vault.md "Redaction"). Each secret is removed in
 * every form this list can produce cheaply, longest form first:
 * 1. the literal value;
 * 2. its JSON string escaping (a value with `"`, `\` or control characters inside JSON text);
 * 3. its URL encodings: encodeURIComponent, encodeURI, application/x-www-form-urlencoded,
 *    each also with lower-case percent hex;
 * 4. its base64 and base64url encodings at each of the three byte alignments it can have
 *    inside a longer encoded blob (e.g. `Basic base64(user:secret)`): the characters that
 *    depend only on the secret's bytes. At most two bytes at each end of the secret share a
 *    base64 character with their neighbours and are not covered by this form.
 * Secrets shorter than MIN_REDACTABLE_CHARS are not searched for: they would erase ordinary
 * words and offer no protection anyway. Base64 forms shorter than MIN_BASE64_FORM_CHARS are
 * skipped for the same reason. Hex, double encoding and compression are not covered.
 */
export const MIN_REDACTABLE_CHARS = 4;
export const MIN_BASE64_FORM_CHARS = 8;

function lowerPercentHex(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());
}

function base64Forms(secret: string): string[] {
  const bytes = utf8(secret);
  const forms: string[] = [];
  for (let lead = 0; lead < 3; lead++) {
    const shifted = new Uint8Array(lead + bytes.length);
    shifted.set(bytes, lead);
    const encoded = encodeBase64(shifted);
    // Characters from the first 3-byte group holding no lead byte to the last full group.
    const start = Math.ceil(lead / 3) * 4;
    const end = Math.floor((lead + bytes.length) / 3) * 4;
    const core = encoded.slice(start, end);
    if (core.length >= MIN_BASE64_FORM_CHARS) forms.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  // Aligned and at the end of a blob: the full padded encoding (covers the last bytes too).
  const whole = encodeBase64(bytes);
  if (whole.length >= MIN_BASE64_FORM_CHARS) forms.push(whole, whole.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  return forms;
}

/** Every form of one secret that redaction looks for. */
export function secretForms(secret: string): string[] {
  if (Array.from(secret).length < MIN_REDACTABLE_CHARS) return [];
  const url = [encodeURIComponent(secret), encodeURI(secret), new URLSearchParams({ v: secret }).toString().slice(2)];
  const forms = [secret, JSON.stringify(secret).slice(1, -1), ...url, ...url.map(lowerPercentHex), ...base64Forms(secret)];
  return [...new Set(forms)].filter((form) => form.length > 0);
}

/** Compiles a redactor for a fixed set of secrets (forms computed once, longest first). */
export function secretRedactor(secrets: readonly string[]): (text: string) => string {
  const needles = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  };
}

/** Removes every given secret (in the forms above) from `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return secretRedactor(secrets)(text);
}

/**
 * A byte-stream redactor (responses flowing back into a sandbox): removes every form of every
 * secret, also when a form is split across chunks, by holding back the last
 * (longest form − 1) bytes until the next chunk or the end. Matching is on bytes (each form's
 * UTF-8), so a non-UTF-8 body cannot hide a form.
 */
export interface ByteScrubber {
  push(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

function toBinary(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

function fromBinary(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function secretByteScrubber(secrets: readonly string[]): ByteScrubber {
  const needles = [...new Set(secrets.flatMap(secretForms))].map((form) => toBinary(utf8(form)));
  const hold = Math.max(0, ...needles.map((needle) => needle.length - 1));
  let pending = '';
  /**
   * Leftmost-longest: replaces every form that starts before `limit` (and, since at least
   * `hold` bytes follow `limit`, lies wholly inside `text`); returns the rest unscanned.
   */
  const scan = (text: string, limit: number): { out: string; rest: string } => {
    const next = needles.map(() => -2);
    let out = '';
    let at = 0;
    for (;;) {
      let best = -1;
      let bestLength = 0;
      needles.forEach((needle, n) => {
        if ((next[n] ?? -2) < at && next[n] !== -1) next[n] = text.indexOf(needle, at);
        const found = next[n] ?? -1;
        if (found !== -1 && found < limit && (best === -1 || found < best || (found === best && needle.length > bestLength))) {
          best = found;
          bestLength = needle.length;
        }
      });
      if (best === -1) {
        const end = Math.max(at, limit);
        return { out: out + text.slice(at, end), rest: text.slice(end) };
      }
      out += text.slice(at, best) + REDACTED;
      at = best + bestLength;
    }
  };
  return {
    push(chunk) {
      pending += toBinary(chunk);
      if (pending.length <= hold) return new Uint8Array(0);
      const { out, rest } = scan(pending, pending.length - hold);
      pending = rest;
      return fromBinary(out);
    },
    end() {
      const { out } = scan(pending, pending.length);
      pending = '';
      return fromBinary(out);
    },
  };
}
