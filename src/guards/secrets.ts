/**
 * Secret scanning of inbound user text (a pasted key never reaches the model; the user is
 * told) and of every reply (a key the model repeats never reaches the channel).
 *
 * Each shape is anchored on a distinctive prefix or label, so ordinary text passes; the
 * vault's own secrets (values, not shapes) are removed by filterReply's `redact` (the
 * workspace redactor, src/protocol/secret-forms.ts forms), not here. src/lib's
 * redactTokenShapes is for logs and is not reused as is: its `Basic|Bearer <8+ chars>`
 * shape matches prose ("a basic understanding"), which in a chat would refuse ordinary
 * messages; the Authorization shape below needs a digit and 16+ characters.
 *
 * Matching (docs/agents.md "Guards", secrets):
 * 1. the text as written, every shape of SECRET_SHAPES, in order (the first shape to claim a
 *    span names its kind: `sk-ant-…` is an Anthropic key, not an OpenAI one);
 * 2. the text with invisible characters removed (zero-width, bidi, tags, soft hyphen), so a
 *    key split by a zero-width space is still found; when only this copy matches, the
 *    redacted text is built from it;
 * 3. otherwise: no secret found.
 */
import type { GuardMode, GuardVerdict } from './settings';

export interface SecretShape {
  kind: string;
  pattern: RegExp;
}

export const SECRET_REDACTED = '[REDACTED]';

export const SECRET_SHAPES: readonly SecretShape[] = [
  {
    kind: 'private-key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { kind: 'aws-access-key-id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  {
    kind: 'aws-secret-access-key',
    pattern: /\b(?:aws_secret_access_key|aws_secret_key|secretaccesskey)["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/gi,
  },
  { kind: 'github-token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,255}\b/g },
  { kind: 'github-token', pattern: /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/g },
  { kind: 'slack-token', pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack-webhook', pattern: /\bhttps:\/\/hooks\.slack\.com\/services\/T[A-Za-z0-9]+\/B[A-Za-z0-9]+\/[A-Za-z0-9]{16,}/g },
  { kind: 'anthropic-api-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { kind: 'openai-api-key', pattern: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'stripe-secret-key', pattern: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { kind: 'google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g },
  { kind: 'portcullis-api-key', pattern: /\bpcl_[A-Za-z0-9_-]{20,}/g },
  { kind: 'authorization-value', pattern: /\b(?:Bearer|Basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{16,}/g },
];

// Format characters (ZWSP, ZWJ, bidi, tags, soft hyphen, word joiner) and variation selectors.
const INVISIBLE = /\p{Cf}|\p{Variation_Selector}|\u034f/gu;

export interface SecretScan {
  found: boolean;
  /** Kinds found, each once, in SECRET_SHAPES order (never the value). */
  kinds: string[];
  /** The text with every secret replaced by SECRET_REDACTED. */
  redacted: string;
}

function redactShapes(text: string): { text: string; kinds: Set<string> } {
  const kinds = new Set<string>();
  let out = text;
  for (const shape of SECRET_SHAPES) {
    out = out.replace(shape.pattern, () => {
      kinds.add(shape.kind);
      return SECRET_REDACTED;
    });
  }
  return { text: out, kinds };
}

/** Finds well-known secret shapes in `text` (rules above). */
export function scanSecrets(text: string): SecretScan {
  const written = redactShapes(text);
  if (written.kinds.size > 0) {
    // A second secret may still hide behind invisible characters.
    const rest = redactShapes(written.text.replace(INVISIBLE, ''));
    const kinds = new Set([...written.kinds, ...rest.kinds]);
    return { found: true, kinds: ordered(kinds), redacted: rest.kinds.size > 0 ? rest.text : written.text };
  }
  const visible = text.replace(INVISIBLE, '');
  if (visible === text) return { found: false, kinds: [], redacted: text };
  const hidden = redactShapes(visible);
  if (hidden.kinds.size === 0) return { found: false, kinds: [], redacted: text };
  return { found: true, kinds: ordered(hidden.kinds), redacted: hidden.text };
}

function ordered(kinds: Set<string>): string[] {
  return [...new Set(SECRET_SHAPES.map((shape) => shape.kind))].filter((kind) => kinds.has(kind));
}

/** What the user is told when their message held a secret (kinds named, never the value). */
export function secretNotice(kinds: readonly string[]): string {
  return (
    `Your message looked like it contained a secret (${kinds.join(', ')}). It was removed before the agent saw it. ` +
    'Treat that secret as exposed: rotate it, and store secrets in the vault instead of pasting them.'
  );
}

/**
 * Inbound user text: `block` replaces each secret before the model sees the text and tells
 * the user; `warn` records and passes the text unchanged; `off` does nothing.
 */
export function guardInboundSecrets(text: string, mode: GuardMode): { text: string; verdict: GuardVerdict; notice: string | null } {
  if (mode === 'off') return { text, verdict: { guard: 'secrets', mode, outcome: 'pass', reasons: [] }, notice: null };
  const scan = scanSecrets(text);
  if (!scan.found) return { text, verdict: { guard: 'secrets', mode, outcome: 'pass', reasons: [] }, notice: null };
  if (mode === 'warn') return { text, verdict: { guard: 'secrets', mode, outcome: 'warned', reasons: scan.kinds }, notice: null };
  return {
    text: scan.redacted,
    verdict: { guard: 'secrets', mode, outcome: 'blocked', reasons: scan.kinds },
    notice: secretNotice(scan.kinds),
  };
}

/** A reply: `block` sends it with every secret replaced; `warn` records only; `off` does nothing. */
export function guardReplySecrets(text: string, mode: GuardMode): { text: string; verdict: GuardVerdict } {
  if (mode === 'off') return { text, verdict: { guard: 'secrets', mode, outcome: 'pass', reasons: [] } };
  const scan = scanSecrets(text);
  if (!scan.found) return { text, verdict: { guard: 'secrets', mode, outcome: 'pass', reasons: [] } };
  if (mode === 'warn') return { text, verdict: { guard: 'secrets', mode, outcome: 'warned', reasons: scan.kinds } };
  return { text: scan.redacted, verdict: { guard: 'secrets', mode, outcome: 'blocked', reasons: scan.kinds } };
}
