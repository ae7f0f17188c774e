/**
 * `portcullis` CLI: compiles a tool manifest into a sandbox artifact (`compile`), checks a
 * deployment (`doctor`), rotates the vault (`vault rotate`). Bundled by
 * scripts/build-cli.mjs into dist/portcullis.mjs (Node 20+); bin/portcullis.mjs loads it.
 * The compiler is the same src/policy code the Worker and the runner use.
 */
import { readFileSync } from 'node:fs';
import {
  compileManifest,
  EGRESS_TARGETS,
  type EgressTarget,
  formatPolicyError,
  quoteValue,
  type Target,
  TARGETS,
} from '../src/policy/index.ts';
import { parseCommandArgs } from './args.ts';
import { doctor } from './doctor/index.ts';
import { vaultRotate, VAULT_ROTATE_HELP } from './vault-rotate.ts';

export const EXIT = { OK: 0, USAGE: 2, INPUT: 3, COMPILE: 4 } as const;
/** Same cap as the HTTP API's JSON bodies. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export const HELP = `Usage: portcullis compile <manifest.json|-> --target <target> [options]
       portcullis doctor [--config wrangler.toml] [--env-file .dev.vars] [--url URL] [--json] [--fix]   (see portcullis doctor --help)
       portcullis vault rotate --url <gateway origin>   (see portcullis vault rotate --help)
       portcullis --version

Compiles a tool manifest's declared capabilities into a sandbox configuration and prints
it as JSON on stdout. "-" reads the manifest from stdin.

Targets (--target):
  bwrap       bubblewrap argv prefix (network always unshared)
  docker      docker run options (--cap-drop ALL, --read-only, --network none unless net: is declared)
  egress      egress allowlist; choose the backend with --egress-target
  cloudflare  Cloudflare Container configuration (enableInternet: false, interceptHttps: true)
  k8s         Pod securityContext and NetworkPolicy

Options:
  --egress-target squid|nftables   backend for --target egress (default: squid)
  --tool NAME                      compile only this tool's capabilities (default: whole server)
  --dns-resolver IP                resolver nftables lets DNS through to (repeatable; default 1.1.1.1 and 2606:4700:4700::1111)
  --pretty                         indent the JSON output
  --json                           errors as JSON on stdout: {"errors": [{"code", "path", "message"}]}
  -h, --help                       show this help
  --version                        print the version

Output: {target, provenance, argv|config, egress, envInjections, exec, clock, assertions,
serverCapabilities, notes, unenforceable}.
A declared capability the target cannot enforce is listed in "unenforceable", never dropped.

Exit codes:
  0  compiled; the artifact is on stdout
  2  usage error (unknown option, missing or invalid --target, ...)
  3  the manifest could not be read, is larger than 1 MiB, or is not JSON
  4  the manifest does not compile; stderr names the code, where, why and the offending value, e.g.
     CAP_NET_PORT at tools.0.capabilities.3: The port must be 1–65535 in plain decimal. Got "net:connect:a.example:0".

Every command's exit codes: docs/cli.md. Grammar, IR and every target's decisions: docs/policy.md.
`;

export interface CliIo {
  readStdin(): Uint8Array;
  readFile(path: string): Uint8Array;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const nodeIo: CliIo = {
  readStdin: () => readFileSync(0),
  readFile: (path) => readFileSync(path),
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

interface Parsed {
  input: string;
  target: Target;
  egressTarget?: EgressTarget;
  tool?: string;
  dnsResolvers?: string[];
  pretty: boolean;
  json: boolean;
}

const COMPILE_OPTIONS = {
  target: { type: 'string' },
  'egress-target': { type: 'string' },
  tool: { type: 'string' },
  'dns-resolver': { type: 'string', multiple: true },
  pretty: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCompileArgs(args: string[]): Parsed | 'help' | string {
  if (args.length === 0) return 'help';
  const [command, ...rest] = args;
  if (command === '-h' || command === '--help') return 'help';
  if (command !== 'compile') return `unknown command ${quoteValue(command ?? '')}`;
  const parsed = parseCommandArgs(rest, COMPILE_OPTIONS);
  if (!parsed.ok) return parsed.error;
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) return 'expected exactly one manifest path (or - for stdin)';
  const target = values.target as string | undefined;
  if (target === undefined) return '--target is required';
  if (!(TARGETS as readonly string[]).includes(target)) return `--target must be one of ${TARGETS.join(', ')}`;
  const egressTarget = values['egress-target'] as string | undefined;
  if (egressTarget !== undefined && target !== 'egress') return '--egress-target is only valid with --target egress';
  if (egressTarget !== undefined && !(EGRESS_TARGETS as readonly string[]).includes(egressTarget))
    return `--egress-target must be one of ${EGRESS_TARGETS.join(', ')}`;
  const resolvers = (values['dns-resolver'] as string[] | undefined) ?? [];
  if (resolvers.length > 0 && egressTarget !== 'nftables') return '--dns-resolver is only valid with --egress-target nftables';
  const tool = values.tool as string | undefined;
  return {
    input: positionals[0] ?? '',
    target: target as Target,
    pretty: values.pretty === true,
    json: values.json === true,
    ...(egressTarget !== undefined ? { egressTarget: egressTarget as EgressTarget } : {}),
    ...(tool !== undefined ? { tool } : {}),
    ...(resolvers.length > 0 ? { dnsResolvers: resolvers } : {}),
  };
}

/** The package version, read beside the bundle (dist/../package.json) or the sources (cli/../package.json). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** `vault rotate` talks to a gateway over HTTPS; everything else is the offline compiler. */
export function run(args: string[]): number | Promise<number> {
  const stdout = (t: string) => void process.stdout.write(t);
  const stderr = (t: string) => void process.stderr.write(t);
  if (args[0] === '--version' || args[0] === '-v') {
    stdout(`portcullis ${version()}\n`);
    return EXIT.OK;
  }
  if (args[0] === 'doctor') {
    const colour = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
    return doctor(args.slice(1), { fetch, env: process.env, now: Date.now, stdout, stderr, colour });
  }
  if (args[0] === 'vault') {
    if (args[1] !== 'rotate') {
      if (args.includes('--json'))
        stdout(`${JSON.stringify({ errors: [{ code: 'USAGE', path: '(arguments)', message: 'unknown vault command' }] })}\n`);
      stderr(`portcullis: unknown vault command\n${VAULT_ROTATE_HELP}`);
      return EXIT.USAGE;
    }
    return vaultRotate(args.slice(2), { fetch, env: process.env, stdout, stderr });
  }
  return main(args);
}

export function main(args: string[], io: CliIo = nodeIo): number {
  const parsed = parseCompileArgs(args);
  if (parsed === 'help') {
    io.stdout(HELP);
    return EXIT.OK;
  }
  if (typeof parsed === 'string') {
    if (args.includes('--json')) io.stdout(`${JSON.stringify({ errors: [{ code: 'USAGE', path: '(arguments)', message: parsed }] })}\n`);
    io.stderr(`portcullis: ${parsed}\nTry 'portcullis --help'.\n`);
    return EXIT.USAGE;
  }
  // Every failure: one line for people on stderr, and with --json the same as an object on stdout.
  const failWith = (exit: number, error: { code: string; path: string; message: string }, text: string): number => {
    if (parsed.json)
      io.stdout(
        `${JSON.stringify({ errors: [{ code: error.code, path: error.path, message: error.message }] }, null, parsed.pretty ? 2 : undefined)}\n`,
      );
    io.stderr(`portcullis: ${text}\n`);
    return exit;
  };
  const source = parsed.input === '-' ? 'stdin' : quoteValue(parsed.input);
  let bytes: Uint8Array;
  try {
    bytes = parsed.input === '-' ? io.readStdin() : io.readFile(parsed.input);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'read error';
    const message = `cannot read ${source} (${code})`;
    return failWith(EXIT.INPUT, { code: 'INPUT_UNREADABLE', path: '(input)', message }, message);
  }
  if (bytes.byteLength > MAX_INPUT_BYTES) {
    const message = `the manifest is larger than ${MAX_INPUT_BYTES} bytes`;
    return failWith(EXIT.INPUT, { code: 'INPUT_TOO_LARGE', path: '(input)', message }, message);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    const message = 'the manifest is not valid UTF-8 JSON';
    return failWith(EXIT.INPUT, { code: 'INPUT_NOT_JSON', path: '(input)', message }, message);
  }
  const result = compileManifest(manifest, parsed);
  if (!result.ok) return failWith(EXIT.COMPILE, result.error, formatPolicyError(result.error));
  io.stdout(`${JSON.stringify(result.artifact, null, parsed.pretty ? 2 : undefined)}\n`);
  return EXIT.OK;
}
