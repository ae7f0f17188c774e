/**
 * Offline checks of an env file (.dev.vars or the file secrets are put from): presence and
 * strength of the gateway's secrets, read with the gateway's own parsers (VAULT_KEYS by
 * parseKeyring, RUNNER_SECRET against the runner's minimum length). Values never leave
 * this file: findings name the variable and what is wrong, not the value.
 */
import { statSync } from 'node:fs';
import { RUNNER_SECRET_MIN_LENGTH } from '../../src/protocol/index.ts';
import { decodeBase64 } from '../../src/lib/index.ts';
import { parseKeyring } from '../../src/vault/keyring.ts';
import { finding, type Finding } from './checks.ts';

/** The gateway itself accepts any non-empty SETUP_TOKEN; doctor asks for as much as a runner secret. */
export const SETUP_TOKEN_MIN_LENGTH = 32;
/** 32 random characters from a base64 alphabet have about 24 distinct ones; fewer than this is a pattern. */
export const MIN_DISTINCT_CHARS = 12;
/** 32 random bytes have about 30 distinct values; fewer than this is not a random key. */
export const MIN_DISTINCT_KEY_BYTES = 16;

/** KEY=VALUE lines as wrangler reads .dev.vars (dotenv): comments and blank lines skipped, one pair of quotes removed. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match?.[1]) continue;
    const raw = match[2] ?? '';
    const quoted = /^(["'`])(.*)\1$/.exec(raw);
    values[match[1]] = quoted ? (quoted[2] ?? '') : raw.replace(/\s+#.*$/, '');
  }
  return values;
}

const distinct = (items: Iterable<unknown>): number => new Set(items).size;

function tokenWeakness(value: string, minLength: number): string | null {
  if (value.length < minLength) return `is ${value.length} characters long (at least ${minLength})`;
  if (distinct(value) < MIN_DISTINCT_CHARS) return `uses only ${distinct(value)} distinct characters`;
  return null;
}

async function vaultKeysProblems(raw: string | undefined): Promise<Finding[]> {
  if (raw === undefined || raw.trim() === '') return [finding('secrets.vault_keys.missing', 'VAULT_KEYS is not set in the env file')];
  const parsed = await parseKeyring(raw);
  if (!parsed.ok) {
    const problem = parsed.problem;
    const detail =
      problem.kind === 'keyring-malformed'
        ? `entry ${problem.entry}: ${problem.reason}`
        : problem.kind === 'key-too-short'
          ? `key ${problem.keyId} has ${problem.bytes} bytes (at least 32)`
          : problem.kind;
    return [finding('secrets.vault_keys.invalid', `VAULT_KEYS is refused by the gateway (${detail})`)];
  }
  const findings: Finding[] = [];
  for (const entry of raw.split(',').map((part) => part.trim())) {
    const colon = entry.indexOf(':');
    const bytes = decodeBase64(entry.slice(colon + 1));
    if (bytes && distinct(bytes) < MIN_DISTINCT_KEY_BYTES)
      findings.push(
        finding('secrets.vault_keys.weak', `VAULT_KEYS key ${entry.slice(0, colon)} has only ${distinct(bytes)} distinct byte values`),
      );
  }
  return findings;
}

/** `toolsConfigured`: some TOOL_EXECUTOR is set, so the runner secret is needed. */
export async function checkSecrets(values: Record<string, string>, toolsConfigured: boolean): Promise<Finding[]> {
  const findings: Finding[] = [];
  const setupToken = values.SETUP_TOKEN ?? '';
  if (setupToken === '') findings.push(finding('secrets.setup_token.missing', 'SETUP_TOKEN is not set in the env file'));
  else {
    const weakness = tokenWeakness(setupToken, SETUP_TOKEN_MIN_LENGTH);
    if (weakness) findings.push(finding('secrets.setup_token.weak', `SETUP_TOKEN ${weakness}`));
  }
  findings.push(...(await vaultKeysProblems(values.VAULT_KEYS)));
  const runnerSecret = values.RUNNER_SECRET ?? '';
  if (runnerSecret === '') {
    if (toolsConfigured) findings.push(finding('secrets.runner_secret.missing', 'RUNNER_SECRET is not set but TOOL_EXECUTOR is'));
  } else {
    const weakness = tokenWeakness(runnerSecret, RUNNER_SECRET_MIN_LENGTH);
    if (weakness) findings.push(finding('secrets.runner_secret.weak', `RUNNER_SECRET ${weakness}`));
  }
  return findings;
}

/** Group or other permission bits on a file of secrets. */
export function envFilePermissionProblem(path: string): Finding | null {
  const mode = statSync(path).mode & 0o777;
  return mode & 0o077
    ? finding('secrets.env_file.permissions', `${path} has mode ${mode.toString(8).padStart(3, '0')} (others or group can read it)`)
    : null;
}
