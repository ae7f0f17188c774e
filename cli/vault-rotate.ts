/**
 * `portcullis vault rotate --url <gateway>`: drives POST /api/v1/admin/vault/rotate until no
 * envelope is left under an old key. Each call re-seals one batch, so an interrupted run is
 * simply started again. The API key (an instance owner's key with the `admin` scope) comes
 * from PORTCULLIS_API_KEY, never from the command line, where the process list shows it.
 */
export const VAULT_ROTATE_HELP = `Usage: portcullis vault rotate --url <gateway origin> [--batch-size N] [--max-calls N]

Re-encrypts every vault envelope under the first key of VAULT_KEYS, calling the gateway
until it reports 0 remaining. Needs PORTCULLIS_API_KEY: an instance owner's API key with
the admin scope. Prints one JSON line per call.

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

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

export async function vaultRotate(args: string[], io: RotateIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(VAULT_ROTATE_HELP);
    return ROTATE_EXIT.OK;
  }
  const url = URL.parse(option(args, '--url') ?? '');
  const batchSize = Number(option(args, '--batch-size') ?? 100);
  const maxCalls = Number(option(args, '--max-calls') ?? 10_000);
  const key = io.env.PORTCULLIS_API_KEY;
  if (!url || (url.protocol !== 'https:' && url.hostname !== 'localhost' && url.hostname !== '127.0.0.1')) {
    io.stderr('portcullis: --url must be the gateway origin over https (http only for localhost)\n');
    return ROTATE_EXIT.USAGE;
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 500 || !Number.isInteger(maxCalls) || maxCalls < 1) {
    io.stderr('portcullis: --batch-size must be 1..500 and --max-calls a positive integer\n');
    return ROTATE_EXIT.USAGE;
  }
  if (!key) {
    io.stderr('portcullis: set PORTCULLIS_API_KEY to an instance owner API key with the admin scope\n');
    return ROTATE_EXIT.USAGE;
  }
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
      io.stderr(`portcullis: the gateway could not be reached (${(error as Error).name})\n`);
      return ROTATE_EXIT.GATEWAY;
    }
    if (res.status !== 200) {
      const code = ((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code ?? 'unknown';
      io.stderr(`portcullis: the gateway answered ${res.status} ${code}\n`);
      return ROTATE_EXIT.GATEWAY;
    }
    const report = (await res.json()) as RotateReport;
    io.stdout(`${JSON.stringify(report)}\n`);
    if (report.remaining === 0) return ROTATE_EXIT.OK;
    // Only unreadable envelopes left: another call cannot help.
    if (report.resealed === 0 && report.remaining <= report.unreadable) return ROTATE_EXIT.UNREADABLE;
  }
  io.stderr('portcullis: --max-calls reached before rotation finished; run it again to continue\n');
  return ROTATE_EXIT.GATEWAY;
}
