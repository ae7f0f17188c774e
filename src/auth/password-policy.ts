import commonPasswordsText from './common-passwords.txt';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * The 20,000 most common passwords from the zxcvbn-ts common dictionary
 * (@zxcvbn-ts/language-common 4.1.3, MIT; see docs/auth.md). Parsed once per isolate.
 */
let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(commonPasswordsText.split('\n').filter(Boolean));
  return common;
}

export type PasswordPolicyFailure = 'too-short' | 'too-long' | 'equals-email' | 'common';

/**
 * NIST SP 800-63B §5.1.1.2: length, no composition rules, refuse known-common values.
 * A password made of a common one plus leading/trailing digits or symbols
 * (`Password2024!`) counts as common too. Lengths are in code points.
 */
export function checkPasswordPolicy(password: string, email: string): PasswordPolicyFailure | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (length > MAX_PASSWORD_LENGTH) return 'too-long';
  const lowered = password.toLowerCase();
  if (lowered === email.toLowerCase()) return 'equals-email';
  const core = lowered.replace(/^[\d\W_]+|[\d\W_]+$/g, '');
  const list = commonPasswords();
  if (list.has(lowered) || (core.length > 0 && list.has(core))) return 'common';
  return null;
}
