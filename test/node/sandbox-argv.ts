/**
 * Reads the mounts out of a compiled bwrap or `docker run` argv, for the property test.
 * It knows every option of both tools and throws on anything else, so a mount the adapter
 * starts to emit in a form this file does not know fails the property instead of passing
 * unseen (an earlier version knew only --bind/--ro-bind/--volume, so a writable --bind-try,
 * --dev-bind or --mount would have passed "grants nothing undeclared").
 */

/** What one mount exposes. `source` is a host path, or `fd:N` / `volume:NAME` / `volumes-from:X` / `device:X`, none of which any manifest can declare. */
export interface Mount {
  option: string;
  source: string;
  target: string;
  writable: boolean;
}

/**
 * Every bwrap option (bubblewrap 0.11 `--help`, a superset of 0.8's) and how many arguments
 * it takes. Mount options are classified in BWRAP_MOUNTS; the rest create nothing from the host.
 */
const BWRAP_ARITY: Readonly<Record<string, number>> = {
  '--help': 0,
  '--version': 0,
  '--args': 1,
  '--argv0': 1,
  '--level-prefix': 0,
  '--unshare-all': 0,
  '--share-net': 0,
  '--unshare-user': 0,
  '--unshare-user-try': 0,
  '--unshare-ipc': 0,
  '--unshare-pid': 0,
  '--unshare-net': 0,
  '--unshare-uts': 0,
  '--unshare-cgroup': 0,
  '--unshare-cgroup-try': 0,
  '--userns': 1,
  '--userns2': 1,
  '--disable-userns': 0,
  '--assert-userns-disabled': 0,
  '--pidns': 1,
  '--uid': 1,
  '--gid': 1,
  '--hostname': 1,
  '--chdir': 1,
  '--clearenv': 0,
  '--setenv': 2,
  '--unsetenv': 1,
  '--lock-file': 1,
  '--sync-fd': 1,
  '--bind': 2,
  '--bind-try': 2,
  '--dev-bind': 2,
  '--dev-bind-try': 2,
  '--ro-bind': 2,
  '--ro-bind-try': 2,
  '--bind-fd': 2,
  '--ro-bind-fd': 2,
  '--remount-ro': 1,
  '--overlay-src': 1,
  '--overlay': 3,
  '--tmp-overlay': 1,
  '--ro-overlay': 1,
  '--exec-label': 1,
  '--file-label': 1,
  '--proc': 1,
  '--dev': 1,
  '--tmpfs': 1,
  '--mqueue': 1,
  '--dir': 1,
  '--file': 2,
  '--bind-data': 2,
  '--ro-bind-data': 2,
  '--symlink': 2,
  '--seccomp': 1,
  '--add-seccomp-fd': 1,
  '--block-fd': 1,
  '--userns-block-fd': 1,
  '--info-fd': 1,
  '--json-status-fd': 1,
  '--new-session': 0,
  '--die-with-parent': 0,
  '--as-pid-1': 0,
  '--cap-add': 1,
  '--cap-drop': 1,
  '--perms': 1,
  '--size': 1,
  '--chmod': 2,
};

/**
 * Options that would hide or widen what the argv says; a compiled sandbox never needs them:
 * `--args` reads more options from a file descriptor, `--userns`/`--pidns` join namespaces
 * that exist outside the sandbox, `--cap-add` hands out capabilities, `--share-net` keeps the
 * host network.
 */
const BWRAP_FORBIDDEN = new Set(['--args', '--userns', '--userns2', '--pidns', '--cap-add', '--share-net']);

/** bwrap mounts that expose something of the host. tmpfs, dir, proc, dev, mqueue, file, bind-data, ro-bind-data, symlink, remount-ro, chmod, tmp-overlay and ro-overlay create only sandbox-private things. */
function bwrapMount(option: string, args: string[], overlaySources: string[]): Mount[] {
  const [a = '', b = '', c = ''] = args;
  switch (option) {
    case '--bind':
    case '--bind-try':
    case '--dev-bind':
    case '--dev-bind-try':
      return [{ option, source: a, target: b, writable: true }];
    case '--ro-bind':
    case '--ro-bind-try':
      return [{ option, source: a, target: b, writable: false }];
    case '--bind-fd':
    case '--ro-bind-fd':
      return [{ option, source: `fd:${a}`, target: b, writable: option === '--bind-fd' }];
    case '--overlay-src':
      overlaySources.push(a);
      return [];
    case '--overlay': {
      // The upper directory and the work directory are host directories the sandbox writes to.
      const lowers = overlaySources.splice(0).map((source) => ({ option: '--overlay-src', source, target: c, writable: false }));
      return [...lowers, { option, source: a, target: c, writable: true }, { option, source: b, target: c, writable: true }];
    }
    case '--tmp-overlay':
    case '--ro-overlay':
      return overlaySources.splice(0).map((source) => ({ option: '--overlay-src', source, target: a, writable: false }));
    default:
      return [];
  }
}

/** Mounts of a `bwrap … --` prefix. Throws on an unknown or forbidden option, a missing argument or a missing final `--`. */
export function bwrapMounts(argv: readonly string[]): Mount[] {
  if (argv[0] !== 'bwrap') throw new Error(`not a bwrap argv: ${argv[0]}`);
  const mounts: Mount[] = [];
  const overlaySources: string[] = [];
  let i = 1;
  for (;;) {
    const option = argv[i];
    if (option === undefined) throw new Error('bwrap argv has no final "--": the tool argv would be parsed as options');
    if (option === '--') break;
    const arity = BWRAP_ARITY[option];
    if (arity === undefined) throw new Error(`unknown bwrap option ${option}`);
    if (BWRAP_FORBIDDEN.has(option)) throw new Error(`forbidden bwrap option ${option}`);
    const args = argv.slice(i + 1, i + 1 + arity);
    if (args.length < arity) throw new Error(`bwrap option ${option} lacks arguments`);
    mounts.push(...bwrapMount(option, args, overlaySources));
    i += 1 + arity;
  }
  if (overlaySources.length > 0) throw new Error('--overlay-src without an overlay');
  return mounts;
}

/**
 * `docker run` options a compiled artifact may carry and whether each takes a value. Anything
 * else (--privileged, --cap-add, --env-file, --pid, --publish, …) is unknown here and fails.
 */
const DOCKER_ARITY: Readonly<Record<string, 0 | 1>> = {
  '--rm': 0,
  '--read-only': 0,
  '--cap-drop': 1,
  '--security-opt': 1,
  '--tmpfs': 1,
  '--user': 1,
  '-u': 1,
  '--pids-limit': 1,
  '--memory': 1,
  '-m': 1,
  '--memory-swap': 1,
  '--cpus': 1,
  '--ipc': 1,
  '--network': 1,
  '--net': 1,
  '--volume': 1,
  '-v': 1,
  '--mount': 1,
  '--env': 1,
  '-e': 1,
  '--workdir': 1,
  '-w': 1,
  // Known, and each a grant of its own: another container's volumes, a host device.
  '--volumes-from': 1,
  '--device': 1,
};

/** `-v`/`--volume` SRC:DST[:OPTS], DST alone (anonymous volume, container-private), or NAME:DST (named volume). The default mode is read-write. */
function dockerVolume(value: string): Mount[] {
  const parts = value.split(':');
  if (parts.length === 1) return [];
  if (parts.length > 3) throw new Error(`unsupported --volume form ${value}`);
  const [source = '', target = '', opts = ''] = parts;
  const flags = opts === '' ? [] : opts.split(',');
  const known = new Set([
    'ro',
    'readonly',
    'rw',
    'z',
    'Z',
    'shared',
    'rshared',
    'slave',
    'rslave',
    'private',
    'rprivate',
    'nocopy',
    'consistent',
    'cached',
    'delegated',
  ]);
  for (const flag of flags) if (!known.has(flag)) throw new Error(`unknown --volume option ${flag}`);
  const writable = !flags.includes('ro') && !flags.includes('readonly');
  return [{ option: '--volume', source: source.startsWith('/') ? source : `volume:${source}`, target, writable }];
}

const TRUE = new Set(['', 'true', '1']);
const FALSE = new Set(['false', '0']);

/** `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly[=true|false]][,…]`; the type defaults to volume. */
function dockerMount(value: string): Mount[] {
  if (value.includes('"') || value.includes("'")) throw new Error(`quoted --mount fields are not supported: ${value}`);
  const fields = new Map<string, string>();
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    fields.set(eq < 0 ? field : field.slice(0, eq), eq < 0 ? '' : field.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'volume';
  const source = fields.get('source') ?? fields.get('src');
  const target = fields.get('target') ?? fields.get('destination') ?? fields.get('dst') ?? '';
  const readonlyValue = fields.get('readonly') ?? fields.get('ro');
  if (readonlyValue !== undefined && !TRUE.has(readonlyValue) && !FALSE.has(readonlyValue))
    throw new Error(`unknown readonly value ${readonlyValue}`);
  const writable = readonlyValue === undefined || FALSE.has(readonlyValue);
  switch (type) {
    case 'tmpfs':
      return [];
    case 'bind':
      if (!source) throw new Error(`bind mount without a source: ${value}`);
      return [{ option: '--mount', source, target, writable }];
    case 'volume':
      return source ? [{ option: '--mount', source: `volume:${source}`, target, writable }] : [];
    default:
      throw new Error(`unsupported --mount type ${type}`);
  }
}

/** Options and mounts of a `docker run …` prefix (the runner appends the image). Throws on an unknown option or a value-less option at the end. */
export function dockerRun(argv: readonly string[]): { mounts: Mount[]; options: [string, string | null][] } {
  if (argv[0] !== 'docker' || argv[1] !== 'run') throw new Error('not a docker run argv');
  const mounts: Mount[] = [];
  const options: [string, string | null][] = [];
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const arity = DOCKER_ARITY[name];
    if (arity === undefined) throw new Error(`unknown docker run option ${arg}`);
    let value: string | null = null;
    if (arity === 1) {
      value = eq < 0 ? (argv[++i] ?? null) : arg.slice(eq + 1);
      if (value === null) throw new Error(`docker option ${name} lacks its value`);
    } else if (eq >= 0) {
      throw new Error(`docker option ${name} takes no value`);
    }
    options.push([name, value]);
    if (name === '--volume' || name === '-v') mounts.push(...dockerVolume(value ?? ''));
    if (name === '--mount') mounts.push(...dockerMount(value ?? ''));
    if (name === '--volumes-from') mounts.push({ option: name, source: `volumes-from:${value}`, target: '/', writable: true });
    if (name === '--device') mounts.push({ option: name, source: `device:${value}`, target: value ?? '', writable: true });
  }
  return { mounts, options };
}
