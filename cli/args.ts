/**
 * Argument parsing for every `portcullis` command: node:util parseArgs, with the checks it
 * leaves to its caller done here once: an option given twice (unless repeatable), a string
 * option without a value, a boolean given a value, and error messages that quote what the
 * user typed (quoteValue), so no control character from argv reaches the terminal.
 */
import { parseArgs } from 'node:util';
import { quoteValue } from '../src/policy/index.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

export type ParsedArgs =
  { ok: true; values: Record<string, string | string[] | boolean | undefined>; positionals: string[] } | { ok: false; error: string };

export function parseCommandArgs(args: string[], options: Record<string, OptionSpec>, maxPositionals = Infinity): ParsedArgs {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | string[] | boolean | undefined> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const spec = options[token.name];
    const shown = quoteValue(token.rawName);
    if (!spec) return { ok: false, error: `unknown option ${shown}` };
    if (spec.type === 'boolean') {
      if (token.value !== undefined) return { ok: false, error: `${shown} takes no value` };
      values[token.name] = true;
      continue;
    }
    // Non-strict parseArgs takes the next argument even when it is another option (`--target --json`).
    if (token.value === undefined || token.value === '' || (!token.inlineValue && token.value.startsWith('--')))
      return { ok: false, error: `${shown} needs a value` };
    if (spec.multiple) values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), token.value];
    else if (values[token.name] !== undefined) return { ok: false, error: `${shown} given twice` };
    else values[token.name] = token.value;
  }
  if (positionals.length > maxPositionals)
    return { ok: false, error: `unexpected argument ${quoteValue(positionals[maxPositionals] ?? '')}` };
  return { ok: true, values, positionals };
}
