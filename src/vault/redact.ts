import { REDACTED, redactTokenShapes, utf8 } from '../lib';
import { encodeBase64 } from './base64';
import { ok, type VaultResult } from './problems';
import { openWorkspaceSecrets, type VaultDeps } from './store';

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

export interface WorkspaceRedactor {
  /**
   * `text` with the workspace's secrets and the common token shapes (src/lib) removed.
   * A problem (keyring unusable) means nothing could be checked: callers must then drop
   * the text, not log it unredacted.
   */
  redact(text: string): Promise<VaultResult<string>>;
}

/**
 * Loads and opens every secret of the workspace on first use, then reuses them: make one
 * per request (secrets change between requests; a redactor never refreshes). Rows that
 * cannot be opened (sealed under a removed key) cannot be injected anywhere either, so they
 * are left out rather than failing every redaction.
 */
export function workspaceRedactor(deps: VaultDeps, workspaceId: string): WorkspaceRedactor {
  let compiled: Promise<VaultResult<(text: string) => string>> | undefined;
  return {
    async redact(text) {
      compiled ??= openWorkspaceSecrets(deps, workspaceId).then((opened) => (opened.ok ? ok(secretRedactor(opened.value.values)) : opened));
      const redactor = await compiled;
      if (!redactor.ok) return redactor;
      return ok(redactTokenShapes(redactor.value(text)));
    },
  };
}
