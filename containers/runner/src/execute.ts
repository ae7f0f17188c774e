/**
 * Runs one process with no shell, in its own process group, with a wall-clock timeout and a
 * combined stdout+stderr cap. Whatever stops it, the whole group is killed afterwards so no
 * background child outlives the invocation.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type StopReason = 'exit' | 'timeout' | 'output-limit' | 'killed';

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
  stopReason: StopReason;
}

export interface RunSpec {
  /** argv[0] is executed directly (PATH lookup, never a shell). */
  argv: string[];
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
  outputLimitBytes: number;
  cwd?: string;
  /** Drop to this uid/gid in the child before exec (the runner must be root to do so). */
  uid?: number;
  gid?: number;
  /** Open fds the child gets as 3, 4, … (bwrap's --bind-fd sources); the caller closes them. */
  fds?: number[];
  /** After SIGTERM on timeout, SIGKILL follows this much later. */
  killGraceMs?: number;
  /** Aborting (client went away, runner shutting down) kills the group: stopReason 'killed'. */
  abort?: AbortSignal;
}

export const DEFAULT_KILL_GRACE_MS = 1_000;

/** Signals a whole process group; the group may already be gone, which is fine. */
export function killProcessGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** Collects stdout/stderr up to one shared byte budget. */
export function createOutputCap(limitBytes: number, onExceeded: () => void) {
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  let used = 0;
  let truncated = false;
  return {
    push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
      if (truncated) return;
      const room = limitBytes - used;
      if (chunk.length > room) {
        if (room > 0) chunks[stream].push(chunk.subarray(0, room));
        used = limitBytes;
        truncated = true;
        onExceeded();
        return;
      }
      chunks[stream].push(chunk);
      used += chunk.length;
    },
    get truncated() {
      return truncated;
    },
    text(stream: 'stdout' | 'stderr'): string {
      return new TextDecoder().decode(Buffer.concat(chunks[stream]));
    },
  };
}

export function spawnInGroup(spec: Pick<RunSpec, 'argv' | 'env' | 'cwd' | 'uid' | 'gid' | 'fds'>): ChildProcess {
  const [command, ...args] = spec.argv;
  if (!command) throw new Error('empty argv');
  return spawn(command, args, {
    env: spec.env,
    cwd: spec.cwd,
    uid: spec.uid,
    gid: spec.gid,
    // detached: the child leads a new process group, so -pid reaches all of its descendants.
    detached: true,
    shell: false,
    stdio: ['pipe', 'pipe', 'pipe', ...(spec.fds ?? [])],
  });
}

export function runProcess(spec: RunSpec): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolveOnce) => {
    let settled = false;
    const resolve = (result: RunResult) => {
      if (settled) return;
      settled = true;
      resolveOnce(result);
    };
    let stopReason: StopReason | null = null;
    let sentSignal = false;
    const stop = (reason: StopReason, signal: NodeJS.Signals) => {
      if (stopReason) return;
      stopReason = reason;
      sentSignal = true;
      killProcessGroup(child.pid, signal);
      if (signal !== 'SIGKILL')
        graceTimer = setTimeout(() => killProcessGroup(child.pid, 'SIGKILL'), spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };
    const output = createOutputCap(spec.outputLimitBytes, () => stop('output-limit', 'SIGKILL'));
    let graceTimer: NodeJS.Timeout | undefined;
    let child: ChildProcess;
    try {
      child = spawnInGroup(spec);
    } catch {
      resolve({ exitCode: 127, signal: null, stdout: '', stderr: 'spawn failed', truncated: false, durationMs: 0, stopReason: 'exit' });
      return;
    }
    const timer = setTimeout(() => stop('timeout', 'SIGTERM'), spec.timeoutMs);
    const onAbort = () => stop('killed', 'SIGKILL');
    spec.abort?.addEventListener('abort', onAbort, { once: true });

    child.stdout?.on('data', (c: Buffer) => output.push('stdout', c));
    child.stderr?.on('data', (c: Buffer) => output.push('stderr', c));
    child.stdin?.on('error', () => {}); // EPIPE when the tool does not read its input
    child.stdin?.end(spec.stdin);

    // A background child may keep the pipes open after the leader exits: kill the group then.
    child.on('exit', () => killProcessGroup(child.pid, 'SIGKILL'));
    child.on('error', () => {
      clearTimeout(timer);
      resolve({
        exitCode: 127,
        signal: null,
        stdout: '',
        stderr: 'spawn failed',
        truncated: false,
        durationMs: Math.round(performance.now() - started),
        stopReason: 'exit',
      });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      spec.abort?.removeEventListener('abort', onAbort);
      killProcessGroup(child.pid, 'SIGKILL');
      resolve({
        exitCode: code,
        signal,
        stdout: output.text('stdout'),
        stderr: output.text('stderr'),
        truncated: output.truncated,
        durationMs: Math.round(performance.now() - started),
        // Died of a signal nobody here sent (OOM killer, an operator): 'killed'.
        stopReason: stopReason ?? (signal && !sentSignal ? 'killed' : 'exit'),
      });
    });
  });
}
