/**
 * The runner's HTTP surface:
 *   GET  /healthz      liveness, unsigned, says nothing but "ok" and the isolation mode
 *   POST /invocations  one signed invocation at a time
 * Errors use the gateway's envelope {"error":{"code","message","requestId"}}.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { invocationSchema, runInvocation, type RunnerConfig } from './invocation.ts';
import {
  type RunnerKey,
  RUNNER_SIGNATURE_HEADER,
  RUNNER_TIMESTAMP_HEADER,
  createReplayGuard,
  verifyRunnerRequest,
} from '../../../src/protocol/index.ts';

export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'VALIDATION_ERROR'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'POLICY_DENIED'
  | 'INTERNAL';
const STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  POLICY_DENIED: 403,
  INTERNAL: 500,
};
const MESSAGE: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'Request signature missing, stale or invalid.',
  VALIDATION_ERROR: 'Invalid invocation.',
  NOT_FOUND: 'Not found.',
  METHOD_NOT_ALLOWED: 'Method not allowed.',
  CONFLICT: 'The runner is busy with another invocation.',
  PAYLOAD_TOO_LARGE: 'Request body too large.',
  UNSUPPORTED_MEDIA_TYPE: 'Use application/json.',
  POLICY_DENIED: 'The runner refused to run this invocation.',
  INTERNAL: 'Internal error.',
};

function send(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
    'cache-control': 'no-store',
  });
  res.end(text);
}

function fail(res: ServerResponse, code: ErrorCode, requestId: string): void {
  send(res, STATUS[code], { error: { code, message: MESSAGE[code], requestId } }, requestId);
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface RunnerServerOptions {
  key: RunnerKey;
  config: RunnerConfig;
  /** Unix seconds; injected by tests. */
  nowS?: () => number;
  log?: (line: Record<string, unknown>) => void;
}

export function createRunnerServer(options: RunnerServerOptions): Server {
  const nowS = options.nowS ?? (() => Math.floor(Date.now() / 1000));
  const replay = createReplayGuard();
  let busy = false;

  return createServer((req, res) => {
    const requestId = randomUUID();
    const url = req.url ?? '/';
    const handle = async () => {
      if (url === '/healthz') {
        if (req.method !== 'GET') return fail(res, 'METHOD_NOT_ALLOWED', requestId);
        return send(res, 200, { ok: true, isolation: options.config.isolation }, requestId);
      }
      if (url !== '/invocations') return fail(res, 'NOT_FOUND', requestId);
      if (req.method !== 'POST') return fail(res, 'METHOD_NOT_ALLOWED', requestId);
      // Unsigned: refused before the body is even read.
      if (!req.headers[RUNNER_SIGNATURE_HEADER] || !req.headers[RUNNER_TIMESTAMP_HEADER]) {
        options.log?.({ event: 'runner.auth_failed', reason: 'missing', requestId });
        return fail(res, 'UNAUTHENTICATED', requestId);
      }
      const body = await readBody(req);
      if (!body) return fail(res, 'PAYLOAD_TOO_LARGE', requestId);
      // Precedence: 1 signature (nothing else is looked at before it passes) → 2 replay →
      // 3 media type → 4 shape → 5 busy → 6 run.
      const check = await verifyRunnerRequest(options.key, {
        method: req.method,
        path: url,
        body,
        nowS: nowS(),
        timestamp: req.headers[RUNNER_TIMESTAMP_HEADER] as string | undefined,
        signature: req.headers[RUNNER_SIGNATURE_HEADER] as string | undefined,
      });
      if (!check.ok) {
        options.log?.({ event: 'runner.auth_failed', reason: check.failure.kind, requestId });
        return fail(res, 'UNAUTHENTICATED', requestId);
      }
      if (!replay.accept(check.signatureHex, nowS())) {
        options.log?.({ event: 'runner.auth_failed', reason: 'replayed', requestId });
        return fail(res, 'UNAUTHENTICATED', requestId);
      }
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
        return fail(res, 'UNSUPPORTED_MEDIA_TYPE', requestId);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        return fail(res, 'VALIDATION_ERROR', requestId);
      }
      const parsed = invocationSchema.safeParse(json);
      if (!parsed.success) return fail(res, 'VALIDATION_ERROR', requestId);
      if (busy) return fail(res, 'CONFLICT', requestId);
      busy = true;
      const abort = new AbortController();
      // The gateway gave up (closed the connection): do not keep running for nobody.
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      try {
        const outcome = await runInvocation(parsed.data, options.config, abort.signal);
        if ('refused' in outcome) {
          options.log?.({ event: 'runner.refused', reason: outcome.refused, tool: parsed.data.tool, requestId });
          return fail(res, 'POLICY_DENIED', requestId);
        }
        options.log?.({
          event: 'runner.invocation',
          tool: parsed.data.tool,
          stopReason: outcome.stopReason,
          exitCode: outcome.exitCode,
          durationMs: outcome.durationMs,
          requestId,
        });
        return send(res, 200, outcome, requestId);
      } finally {
        busy = false;
      }
    };
    handle().catch((error: unknown) => {
      options.log?.({ event: 'runner.error', message: (error as Error).message, requestId });
      if (!res.headersSent) fail(res, 'INTERNAL', requestId);
      else res.destroy();
    });
  });
}
