/**
 * Token shapes that must never be logged or stored in the clear, whoever's they are.
 * The vault adds the workspace's own stored secrets on top of these (src/vault/).
 * Each pattern is anchored on a distinctive prefix so ordinary text is left alone.
 */
const TOKEN_SHAPES: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]*?(?:-----END PGP PRIVATE KEY BLOCK-----|$)/g,
  // Portcullis API keys; `_` and `-` included so a key is never cut at one and half-logged.
  /\bpcl_[A-Za-z0-9_-]{20,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{22,}\b/g,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, // AWS access key ids
  // AWS secret access keys have no prefix; only their usual labels make them recognisable.
  /\b(aws_secret_access_key|AWS_SECRET_ACCESS_KEY|SecretAccessKey)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/g,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, // Slack tokens
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\b/g, // OpenAI / Anthropic style keys
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWTs (base64url of `{"`), e.g. outside a header
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, // Authorization header values
];

export const REDACTED = '[REDACTED]';

export function redactTokenShapes(text: string): string {
  let out = text;
  for (const shape of TOKEN_SHAPES) {
    out = out.replace(shape, (_match, label?: unknown, separator?: unknown) => {
      if (typeof label !== 'string') return REDACTED;
      // Keep the scheme or label so the text stays readable; drop only the credential.
      return /^(bearer|basic)$/i.test(label) ? `${label} ${REDACTED}` : `${label}${String(separator)}${REDACTED}`;
    });
  }
  return out;
}
