/**
 * `portcullis vault rotate --url <gateway>`: drives POST /api/v1/admin/vault/rotate until no
 * envelope is left under an old key. Each call re-seals one batch, so an interrupted run is
 * simply started again. The API key (an instance owner's key with the `admin` scope) comes
 * from PORTCULLIS_API_KEY, never from the command line, where the process list shows it.
 */
import { parseCommandArgs } from './args.ts';

export const VAULT_ROTATE_HELP = `Usage: portcullis vault rotate --url <gateway origin> [--batch-size N] [--max-calls N] [--json]

Re-encrypts every vault envelope under the first key of VAULT_KEYS, calling the gateway
until it reports 0 remaining. Needs PORTCULLIS_API_KEY: an instance owner's API key with
the admin scope. Prints one JSON line per call; with --json a failure is also one
{"errors": [{"code", "path", "message"}]} line on stdout.

Exit codes: 0 nothing left under old keys; 2 usage; 5 the gateway refused or failed;
6 envelopes remain that cannot be opened (do not remove old keys; see docs/vault.md).
`;

export const ROTATE_EXIT = { OK: 0, USAGE: 2, GATEWAY: 5, UNREADABLE: 6 } as const;

export interface RotateIo {
  fetch: typeof fetch;
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
}

interface RotateReport {
  resealed: number;
  remaining: number;
  unreadable: number;
  activeKeyId: string;
}

const ROTATE_OPTIONS = {
  url: { type: 'string' },
  'batch-size': { type: 'string' },
  'max-calls': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function vaultRotate(args: string[], io: RotateIo): Promise<number> {
  const json = args.includes('--json');
  // Every failure: one line for people on stderr, and with --json the same as an object on stdout.
  const fail = (exit: number, code: string, message: string): number => {
    if (json) io.stdout(`${JSON.stringify({ errors: [{ code, path: code === 'USAGE' ? '(arguments)' : '(gateway)', message }] })}\n`);
    io.stderr(`portcullis: ${message}\n`);
    return exit;
  };
  const parsed = parseCommandArgs(args, ROTATE_OPTIONS, 0);
  if (!parsed.ok) return fail(ROTATE_EXIT.USAGE, 'USAGE', parsed.error);
  if (parsed.values.help) {
    io.stdout(VAULT_ROTATE_HELP);
    return ROTATE_EXIT.OK;
  }
  const url = URL.parse((parsed.values.url as string | undefined) ?? '');
  const batchSize = Number(parsed.values['batch-size'] ?? 100);
  const maxCalls = Number(parsed.values['max-calls'] ?? 10_000);
  const key = io.env.PORTCULLIS_API_KEY;
  if (!url || (url.protocol !== 'https:' && url.hostname !== 'localhost' && url.hostname !== '127.0.0.1')) {
    return fail(ROTATE_EXIT.USAGE, 'USAGE', '--url must be the gateway origin over https (http only for localhost)');
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 500 || !Number.isInteger(maxCalls) || maxCalls < 1) {
    return fail(ROTATE_EXIT.USAGE, 'USAGE', '--batch-size must be 1..500 and --max-calls a positive integer');
  }
  if (!key) return fail(ROTATE_EXIT.USAGE, 'USAGE', 'set PORTCULLIS_API_KEY to an instance owner API key with the admin scope');
  const endpoint = new URL('/api/v1/admin/vault/rotate', url.origin);
  for (let call = 0; call < maxCalls; call++) {
    let res: Response;
    try {
      res = await io.fetch(endpoint, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ batchSize }),
        redirect: 'error',
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      return fail(ROTATE_EXIT.GATEWAY, 'GATEWAY_UNREACHABLE', `the gateway could not be reached (${(error as Error).name})`);
    }
    if (res.status !== 200) {
      const code = ((await res.json().catch(() => ({}))) as { error?: { code?: unknown } }).error?.code;
      // The code is the gateway's, but printed to a terminal: only the envelope's UPPER_SNAKE shape passes.
      return fail(
        ROTATE_EXIT.GATEWAY,
        'GATEWAY_REFUSED',
        `the gateway answered ${res.status} ${typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code) ? code : 'unknown'}`,
      );
    }
    const report = (await res.json()) as RotateReport;
    io.stdout(`${JSON.stringify(report)}\n`);
    if (report.remaining === 0) return ROTATE_EXIT.OK;
    // Only unreadable envelopes left: another call cannot help.
    if (report.resealed === 0 && report.remaining <= report.unreadable)
      return fail(
        ROTATE_EXIT.UNREADABLE,
        'ENVELOPES_UNREADABLE',
        `${report.unreadable} envelopes cannot be opened with the keyring; do not remove old keys (docs/vault.md)`,
      );
  }
  return fail(ROTATE_EXIT.GATEWAY, 'MAX_CALLS_REACHED', '--max-calls reached before rotation finished; run it again to continue');
}
