/**
 * Parses a bwrap argv prefix into options against an allowlist, each option with its known
 * arity. Searching the argv for flags (`includes('--die-with-parent')`) is not enough: a crafted
 * prefix can place `--` early so that the "flags" found are the command's arguments, not bwrap's,
 * or hide a mount in the argument of another option. Only what parses here counts.
 */

/** Options the policy compiler's `bwrap` target (and the runner's tests) emit, with their arity. */
const ARITY: Record<string, number> = {
  '--unshare-all': 0,
  '--unshare-user': 0,
  '--unshare-pid': 0,
  '--unshare-ipc': 0,
  '--unshare-uts': 0,
  '--unshare-net': 0,
  '--unshare-cgroup': 0,
  '--unshare-cgroup-try': 0,
  '--die-with-parent': 0,
  '--new-session': 0,
  '--clearenv': 0,
  '--disable-userns': 0,
  '--assert-userns-disabled': 0,
  '--setenv': 2,
  '--unsetenv': 1,
  '--chdir': 1,
  '--proc': 1,
  '--dev': 1,
  '--tmpfs': 1,
  '--dir': 1,
  '--remount-ro': 1,
  '--symlink': 2,
  '--bind': 2,
  '--ro-bind': 2,
  '--ro-bind-try': 2,
};

export interface BwrapOption {
  name: string;
  args: string[];
}

export type ParsedPrefix =
  | { ok: true; program: string; options: BwrapOption[] }
  | { ok: false; reason: 'unknown-option' | 'missing-argument' | 'command-in-prefix' };

/**
 * Everything up to the first `--` (or the end) must be allowlisted options with all their
 * arguments; the prefix carries no command of its own (the runner appends it), so anything after
 * `--` is refused too. Unknown options (--share-net, --args, --userns, --bind-fd, --cap-add, …)
 * are refused, not skipped: the runner cannot know what they would do to the sandbox.
 */
export function parseBwrapPrefix(prefix: string[]): ParsedPrefix {
  const options: BwrapOption[] = [];
  let i = 1;
  while (i < prefix.length) {
    const name = prefix[i] ?? '';
    if (name === '--') {
      if (i !== prefix.length - 1) return { ok: false, reason: 'command-in-prefix' };
      break;
    }
    const arity = Object.hasOwn(ARITY, name) ? ARITY[name] : undefined;
    if (arity === undefined) return { ok: false, reason: 'unknown-option' };
    if (i + arity >= prefix.length) return { ok: false, reason: 'missing-argument' };
    const args = prefix.slice(i + 1, i + 1 + arity);
    options.push({ name, args });
    i += 1 + arity;
  }
  return { ok: true, program: prefix[0] ?? '', options };
}

export function hasOption(options: BwrapOption[], ...names: string[]): boolean {
  return options.some((option) => names.includes(option.name));
}

/** Back to argv form (the program first, no trailing `--`). */
export function formatBwrapPrefix(program: string, options: BwrapOption[]): string[] {
  return [program, ...options.flatMap((option) => [option.name, ...option.args])];
}
