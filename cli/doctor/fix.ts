/**
 * `--fix`: only tightening edits of local files, each one undoable. Rules, in order:
 * 1. never touch a secret's value (no rotation, no printing): secrets found in [vars] are
 *    left for the operator, who must rotate them anyway;
 * 2. an env file readable by others → chmod 600 (the old mode is printed, so it can be undone);
 * 3. a `DANGEROUSLY_*` line in wrangler.toml [vars] / [env.NAME.vars] or in the env file →
 *    the line is removed, after a backup copy `<file>.doctor-backup` is written; if that
 *    backup already exists the edit is refused (a second backup would lose the first state);
 * 4. an edit is written only if re-reading the result gives exactly the old values minus the
 *    removed keys; anything else (inline tables, multi-line values) is refused, unchanged;
 * 5. everything else is reported and left as it is.
 */
import { chmodSync, copyFileSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { dangerousFlags, parseWranglerToml, varTables } from './config.ts';
import { parseEnvFile } from './secrets.ts';

export interface FixOutcome {
  changed: string[];
  refused: string[];
}

export const BACKUP_SUFFIX = '.doctor-backup';
const VARS_TABLE = /^\s*\[\s*(vars|env\.[A-Za-z0-9_-]+\.vars)\s*\]\s*(#.*)?$/;
const ANY_TABLE = /^\s*\[/;

/** Rule 3 and 4: remove `lines` from `path` if `verify` accepts the result. */
function removeLines(
  path: string,
  text: string,
  drop: Set<number>,
  verify: (next: string) => boolean,
  what: string,
  outcome: FixOutcome,
): void {
  const lines = text.split('\n');
  const next = lines.filter((_, index) => !drop.has(index)).join('\n');
  if (drop.size === 0 || !verify(next)) {
    outcome.refused.push(`${path}: ${what} not removed (the file is not in a shape doctor edits safely; edit it by hand)`);
    return;
  }
  try {
    copyFileSync(path, `${path}${BACKUP_SUFFIX}`, constants.COPYFILE_EXCL);
    chmodSync(`${path}${BACKUP_SUFFIX}`, statSync(path).mode & 0o700);
  } catch {
    outcome.refused.push(
      `${path}: ${what} not removed (${path}${BACKUP_SUFFIX} already exists or cannot be written; doctor will not overwrite a backup)`,
    );
    return;
  }
  writeFileSync(path, next);
  for (const index of [...drop].sort((a, b) => a - b))
    outcome.changed.push(`${path}:${index + 1}: - ${lines[index]?.replace(/=.*$/, '= …')}`);
  outcome.changed.push(`${path}: backup in ${path}${BACKUP_SUFFIX}`);
}

export function fixWranglerToml(path: string, outcome: FixOutcome): void {
  const text = readFileSync(path, 'utf8');
  const before = parseWranglerToml(text);
  const names = varTables(before).flatMap(({ vars }) => dangerousFlags(vars));
  if (names.length === 0) return;
  const drop = new Set<number>();
  let inVars = false;
  text.split('\n').forEach((line, index) => {
    if (ANY_TABLE.test(line)) inVars = VARS_TABLE.test(line);
    else if (
      inVars &&
      /^\s*(DANGEROUSLY_[A-Z0-9_]+)\s*=/.exec(line)?.[1] &&
      names.includes(/^\s*(DANGEROUSLY_[A-Z0-9_]+)/.exec(line)?.[1] ?? '')
    )
      drop.add(index);
  });
  const verify = (next: string): boolean => {
    let after: ReturnType<typeof parseWranglerToml>;
    try {
      after = parseWranglerToml(next);
    } catch {
      return false;
    }
    // A fresh parse, not a copy: smol-toml's objects and dates keep their own prototypes.
    const expected = parseWranglerToml(text);
    for (const { vars } of varTables(expected)) for (const name of dangerousFlags(vars)) delete vars[name];
    return isDeepStrictEqual(after, expected);
  };
  removeLines(path, text, drop, verify, names.join(', '), outcome);
}

export function fixEnvFile(path: string, outcome: FixOutcome): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(path, 0o600);
    outcome.changed.push(`${path}: mode ${mode.toString(8).padStart(3, '0')} → 600 (undo: chmod ${mode.toString(8)} ${path})`);
  }
  const text = readFileSync(path, 'utf8');
  const before = parseEnvFile(text);
  const names = dangerousFlags(before);
  if (names.length === 0) return;
  const drop = new Set<number>();
  text.split('\n').forEach((line, index) => {
    const name = /^\s*(?:export\s+)?(DANGEROUSLY_[A-Z0-9_]+)\s*=/.exec(line)?.[1];
    if (name && names.includes(name)) drop.add(index);
  });
  const verify = (next: string): boolean => {
    const expected = { ...before };
    for (const name of names) delete expected[name];
    return isDeepStrictEqual(parseEnvFile(next), expected);
  };
  removeLines(path, text, drop, verify, names.join(', '), outcome);
}
