/**
 * Stable error codes of the policy compiler (docs/policy.md "Error codes"). Clients and
 * tests match on these strings; renaming one is a breaking change. Each code has one
 * sentence of why (REASONS), which the CLI prints with the offending value.
 */
export const CAPABILITY_ERROR_CODES = [
  'CAP_EMPTY',
  'CAP_TOO_LONG',
  'CAP_CONTROL_CHAR',
  'CAP_NON_ASCII',
  'CAP_MALFORMED',
  'CAP_UNKNOWN_KIND',
  'CAP_UNKNOWN_ACTION',
  'CAP_ACTION_DUPLICATE',
  'CAP_FS_RELATIVE',
  'CAP_FS_TRAVERSAL',
  'CAP_FS_PATH',
  'CAP_FS_GLOB',
  'CAP_FS_TOO_BROAD',
  'CAP_NET_HOST',
  'CAP_NET_PRIVATE',
  'CAP_NET_PORT',
  'CAP_EXEC_PATH',
  'CAP_EXEC_NAME',
  'CAP_ENV_NAME',
  'CAP_IPC_PATH',
  'CAP_IPC_ENDPOINT',
  'CAP_CLOCK_SCOPE',
  'CAP_ASSERT_ID',
  'CAP_ASSERT_DESCRIPTION',
  'CAP_UNKNOWN_REFINEMENT',
  'CAP_REFINEMENT_VALUE',
  'CAP_REFINEMENT_DUPLICATE',
] as const;

export type CapabilityErrorCode = (typeof CAPABILITY_ERROR_CODES)[number];

export const MANIFEST_ERROR_CODES = [
  'MANIFEST_SHAPE',
  'MANIFEST_GRAMMAR',
  'MANIFEST_TOOL_DUPLICATE',
  'MANIFEST_RUN_UNDECLARED_EXEC',
  'MANIFEST_RUN_ARGV',
  'TOOL_NOT_FOUND',
] as const;

export type ManifestErrorCode = (typeof MANIFEST_ERROR_CODES)[number];

export type PolicyErrorCode = CapabilityErrorCode | ManifestErrorCode;

/** One sentence of why per code; `detail` from the parser replaces it where it knows more. */
export const REASONS: Record<PolicyErrorCode, string> = {
  CAP_EMPTY: 'a capability string cannot be empty.',
  CAP_TOO_LONG: 'a capability string is at most 512 characters.',
  CAP_CONTROL_CHAR: 'control characters (U+0000–U+001F, U+007F) could hide a second capability or rewrite a terminal.',
  CAP_NON_ASCII: 'capability strings are printable ASCII (write IDN hosts in punycode) so that one grant has one spelling.',
  CAP_MALFORMED:
    'expected kind:actions:scope[?key=value] (clock:system|tzdata and assert:id[:description] are the short forms), without spaces.',
  CAP_UNKNOWN_KIND: 'the kind is not one of fs, net, exec, env, ipc, clock, assert.',
  CAP_UNKNOWN_ACTION:
    'the action is not valid for this kind (fs: read,write,create,delete; net/ipc: connect; exec: spawn; env: read,inject; clock: read).',
  CAP_ACTION_DUPLICATE: 'an action is listed twice.',
  CAP_FS_RELATIVE: 'fs paths must be absolute: a relative path would depend on the working directory.',
  CAP_FS_TRAVERSAL: 'a "." or ".." segment could climb out of the granted directory.',
  CAP_FS_PATH: 'a path segment is empty or uses a character outside A-Za-z0-9._@+=,~-.',
  CAP_FS_GLOB: 'bind mounts cannot express a partial glob; only a final /** (the whole directory tree) is accepted.',
  CAP_FS_TOO_BROAD: 'granting / would expose the whole host filesystem.',
  CAP_NET_HOST: 'the host is not a DNS name, a public IPv4 address, [IPv6] or * (no userinfo, path or wildcard label).',
  CAP_NET_PRIVATE:
    'the host is a private, loopback, link-local or otherwise reserved address (or localhost/.local) in some spelling; only operators can open those.',
  CAP_NET_PORT: 'the port must be 1–65535 in plain decimal.',
  CAP_EXEC_PATH: 'exec names a binary, not a path: binaries are resolved inside the sandbox.',
  CAP_EXEC_NAME: 'the binary name has characters outside A-Za-z0-9._+- or starts with . or -.',
  CAP_ENV_NAME: 'environment names are UPPER_SNAKE ([A-Z_][A-Z0-9_]*).',
  CAP_IPC_PATH: 'a socket path must be absolute, without "." or "..", globs or characters outside A-Za-z0-9._@+=,~-.',
  CAP_IPC_ENDPOINT:
    'the IPC endpoint is neither an absolute socket path, unix:/path, nor a named endpoint this compiler knows (x11, dbus:system, dbus:session).',
  CAP_CLOCK_SCOPE: 'the clock source must be system or tzdata.',
  CAP_ASSERT_ID:
    'an assertion id is lower-case dotted words ([a-z0-9][a-z0-9_-]*, joined by "."), at most 128 characters, so that an enforced id cannot be imitated by another spelling.',
  CAP_ASSERT_DESCRIPTION: 'the description is empty, longer than 300 characters, contains " or \\, or is quoted only in part.',
  CAP_UNKNOWN_REFINEMENT: 'only exec accepts a refinement (nestedSandbox); an unknown refinement could mean a permission nobody reviewed.',
  CAP_REFINEMENT_VALUE: 'nestedSandbox takes true, false, 1 or 0.',
  CAP_REFINEMENT_DUPLICATE: 'a refinement is given twice.',
  MANIFEST_SHAPE: 'the manifest does not have the documented shape (docs/policy.md "Manifest").',
  MANIFEST_GRAMMAR: 'this compiler implements capgate grammar "0.0" only; the pin must be exactly that string.',
  MANIFEST_TOOL_DUPLICATE: 'two tools have the same name.',
  MANIFEST_RUN_UNDECLARED_EXEC:
    'the binary a tool runs must be declared by an exec:spawn capability of that tool or of serverCapabilities.',
  MANIFEST_RUN_ARGV: 'a run element has a stray brace, a placeholder in argv[0], or a placeholder not named in inputSchema.properties.',
  TOOL_NOT_FOUND: 'no tool of the manifest has this name.',
};

/**
 * A compile failure: the code, the dotted path of the offending value inside the manifest
 * (`tools.0.capabilities.3`), for capability errors the tool and capability indexes, and a
 * message for people (the reason and the offending value, capped and escaped). The HTTP
 * API sends only code and path (it never echoes input values); the CLI prints the message.
 */
export interface PolicyError {
  code: PolicyErrorCode;
  path: string;
  tool?: number;
  index?: number;
  message: string;
}

export const MAX_QUOTED_VALUE = 120;

/**
 * The offending value for a message: JSON-ish quoting with every character outside
 * printable ASCII escaped (no terminal escapes, no bidi tricks), capped at 120 characters.
 */
export function quoteValue(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const chars = [...text];
  const rest = chars.length - MAX_QUOTED_VALUE;
  return `"${escapeText(chars.slice(0, MAX_QUOTED_VALUE).join(''), true)}"${rest > 0 ? ` (… ${rest} more characters)` : ''}`;
}

/** Every character outside printable ASCII as \uXXXX; with `quotes`, `"` and `\` escaped too. */
export function escapeText(text: string, quotes = false): string {
  return [...text]
    .map((char) => {
      const point = char.codePointAt(0) ?? 0;
      if (quotes && (char === '"' || char === '\\')) return `\\${char}`;
      if (point >= 0x20 && point <= 0x7e) return char;
      return point <= 0xffff ? `\\u${point.toString(16).padStart(4, '0')}` : `\\u{${point.toString(16)}}`;
    })
    .join('');
}

export function policyError(
  code: PolicyErrorCode,
  path: string,
  value: unknown,
  detail?: string,
  indexes: { tool?: number; index?: number } = {},
): PolicyError {
  const why = detail ?? REASONS[code];
  const got = value === undefined ? '' : ` Got ${quoteValue(value)}.`;
  return { code, path, ...indexes, message: `${why}${got}` };
}

/** `CODE at path: message`, the CLI's text form. */
export function formatPolicyError(error: PolicyError): string {
  return `${error.code} at ${error.path}: ${error.message}`;
}
