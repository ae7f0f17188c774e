/**
 * `run.mcp` tools: start the MCP server over stdio (in the sandbox when there is one) and
 * perform one `tools/call` with the official SDK client. The transport is ours only so the
 * server runs in its own process group under the same timeout, cap and kill rules as any tool;
 * framing is the SDK's own (ReadBuffer / serializeMessage).
 */
import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import {
  DEFAULT_KILL_GRACE_MS,
  createOutputCap,
  killProcessGroup,
  spawnInGroup,
  type RunResult,
  type RunSpec,
  type StopReason,
} from './execute.ts';

export interface McpCallSpec extends Omit<RunSpec, 'stdin'> {
  toolName: string;
  arguments: Record<string, unknown>;
}

/** An SDK Transport over a child we spawned ourselves (detached, own process group). */
export function childProcessTransport(child: ChildProcess, onStdoutBytes: (n: number) => void): Transport {
  const buffer = new ReadBuffer();
  const transport: Transport = {
    async start() {
      child.stdout?.on('data', (chunk: Buffer) => {
        onStdoutBytes(chunk.length);
        buffer.append(chunk);
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = buffer.readMessage();
          } catch (error) {
            transport.onerror?.(error as Error);
            continue;
          }
          if (!message) break;
          transport.onmessage?.(message);
        }
      });
      child.on('close', () => transport.onclose?.());
      child.stdin?.on('error', (error) => transport.onerror?.(error));
    },
    async send(message) {
      await new Promise<void>((resolve) =>
        child.stdin?.write(serializeMessage(message)) ? resolve() : child.stdin?.once('drain', resolve),
      );
    },
    async close() {
      child.stdin?.end();
    },
  };
  return transport;
}

export async function callMcpTool(spec: McpCallSpec): Promise<RunResult> {
  const started = performance.now();
  let stopReason: StopReason | null = null;
  let stdoutBytes = 0;
  const child = spawnInGroup(spec);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: 127, signal: null }));
  });
  const abort = new AbortController();
  const stop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    abort.abort();
    killProcessGroup(child.pid, reason === 'timeout' ? 'SIGTERM' : 'SIGKILL');
    setTimeout(() => killProcessGroup(child.pid, 'SIGKILL'), spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS).unref();
  };
  const stderr = createOutputCap(spec.outputLimitBytes, () => stop('output-limit'));
  child.stderr?.on('data', (c: Buffer) => stderr.push('stderr', c));
  const timer = setTimeout(() => stop('timeout'), spec.timeoutMs);
  const onAbort = () => stop('killed');
  spec.abort?.addEventListener('abort', onAbort, { once: true });

  // The protocol stream counts against the same cap: a server cannot flood the runner.
  const transport = childProcessTransport(child, (n) => {
    stdoutBytes += n;
    if (stdoutBytes > spec.outputLimitBytes * 2 + 65_536) stop('output-limit');
  });
  const client = new Client({ name: 'portcullis-runner', version: '0.1.0' });
  let stdout = '';
  let exitCode: number | null;
  let callError = '';
  try {
    await client.connect(transport, { signal: abort.signal });
    const result = await client.callTool({ name: spec.toolName, arguments: spec.arguments }, undefined, {
      signal: abort.signal,
      timeout: spec.timeoutMs,
    });
    stdout = JSON.stringify(result);
    exitCode = result.isError ? 1 : 0;
  } catch (error) {
    callError = stopReason ? '' : `mcp: ${(error as Error).message}\n`;
    exitCode = stopReason ? null : 1;
  }
  clearTimeout(timer);
  spec.abort?.removeEventListener('abort', onAbort);
  // One call per server process: end it, and its whole group, now.
  await transport.close();
  killProcessGroup(child.pid, 'SIGKILL');
  const exit = await exited;
  const out = createOutputCap(spec.outputLimitBytes, () => {});
  out.push('stderr', Buffer.from(callError + stderr.text('stderr')));
  out.push('stdout', Buffer.from(stdout));
  return {
    exitCode,
    signal: stopReason ? exit.signal : null,
    stdout: out.text('stdout'),
    stderr: out.text('stderr'),
    truncated: stderr.truncated || out.truncated || stopReason === 'output-limit',
    durationMs: Math.round(performance.now() - started),
    stopReason: stopReason ?? 'exit',
  };
}
