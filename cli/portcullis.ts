/**
 * `portcullis` CLI: compiles a tool manifest into a sandbox artifact. Bundled by
 * scripts/build-cli.mjs into dist/portcullis.mjs (Node 20+); bin/portcullis.mjs loads it.
 * The compiler is the same src/policy code the Worker and the runner use.
 */
import { readFileSync } from 'node:fs';
import { compileManifest, EGRESS_TARGETS, type EgressTarget, formatPolicyError, quoteValue, type Target, TARGETS } from '../src/policy/index.ts';
import { vaultRotate, VAULT_ROTATE_HELP } from './vault-rotate.ts';

export const EXIT = { OK: 0, USAGE: 2, INPUT: 3, COMPILE: 4 } as const;
/** Same cap as the HTTP API's JSON bodies. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export const HELP = `Usage: portcullis compile <manifest.json|-> --target <target> [options]
       portcullis vault rotate --url <gateway origin>   (see portcullis vault rotate --help)

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

Output: {target, provenance, argv|config, egress, envInjections, exec, clock, assertions,
serverCapabilities, notes, unenforceable}.
A declared capability the target cannot enforce is listed in "unenforceable", never dropped.

Exit codes:
  0  compiled; the artifact is on stdout
  2  usage error (unknown option, missing or invalid --target, ...)
  3  the manifest could not be read, is larger than 1 MiB, or is not JSON
  4  the manifest does not compile; stderr names the code, where, why and the offending value, e.g.
     CAP_NET_PORT at tools.0.capabilities.3: The port must be 1–65535 in plain decimal. Got "net:connect:a.example:0".

Grammar, IR and every target's decisions: docs/policy.md.
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

function parseArgs(args: string[]): Parsed | 'help' | string {
  if (args.includes('-h') || args.includes('--help') || args.length === 0) return 'help';
  const [command, ...rest] = args;
  if (command !== 'compile') return `unknown command ${JSON.stringify(command)}`;
  const positional: string[] = [];
  const options: Record<string, string> = {};
  const resolvers: string[] = [];
  let pretty = false;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (arg === '--pretty') pretty = true;
    else if (arg === '--json') json = true;
    else if (['--target', '--egress-target', '--tool', '--dns-resolver'].includes(arg.split('=')[0] ?? '')) {
      const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, rest[++i]];
      if (inline === undefined || inline === '') return `${name} needs a value`;
      if (name === '--dns-resolver') resolvers.push(inline);
      else if (options[name] !== undefined) return `${name} given twice`;
      else options[name] = inline;
    } else if (arg.startsWith('-') && arg !== '-') return `unknown option ${quoteValue(arg)}`;
    else positional.push(arg);
  }
  if (positional.length !== 1) return 'expected exactly one manifest path (or - for stdin)';
  const target = options['--target'];
  if (target === undefined) return '--target is required';
  if (!(TARGETS as readonly string[]).includes(target)) return `--target must be one of ${TARGETS.join(', ')}`;
  const egressTarget = options['--egress-target'];
  if (egressTarget !== undefined && target !== 'egress') return '--egress-target is only valid with --target egress';
  if (egressTarget !== undefined && !(EGRESS_TARGETS as readonly string[]).includes(egressTarget)) return `--egress-target must be one of ${EGRESS_TARGETS.join(', ')}`;
  if (resolvers.length > 0 && egressTarget !== 'nftables') return '--dns-resolver is only valid with --egress-target nftables';
  return {
    input: positional[0] ?? '',
    target: target as Target,
    pretty,
    json,
    ...(egressTarget !== undefined ? { egressTarget: egressTarget as EgressTarget } : {}),
    ...(options['--tool'] !== undefined ? { tool: options['--tool'] } : {}),
    ...(resolvers.length > 0 ? { dnsResolvers: resolvers } : {}),
  };
}

/** `vault rotate` talks to a gateway over HTTPS; everything else is the offline compiler. */
export function run(args: string[]): number | Promise<number> {
  if (args[0] === 'vault') {
    if (args[1] !== 'rotate') {
      process.stderr.write(`portcullis: unknown vault command\n${VAULT_ROTATE_HELP}`);
      return EXIT.USAGE;
    }
    return vaultRotate(args.slice(2), { fetch, env: process.env, stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) });
  }
  return main(args);
}

export function main(args: string[], io: CliIo = nodeIo): number {
  const parsed = parseArgs(args);
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
    if (parsed.json) io.stdout(`${JSON.stringify({ errors: [{ code: error.code, path: error.path, message: error.message }] }, null, parsed.pretty ? 2 : undefined)}\n`);
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
