/**
 * From a tool's compiled `bwrap` artifact (src/policy compileManifest, target 'bwrap', tool NAME)
 * to the `sandbox` and `egress` fields of a runner invocation. Pure (no Node imports), so the
 * Worker can build requests with the same code the runner's tests use.
 *
 * The compiler speaks in sandbox paths: `fs:read:/workspace/**` becomes
 * `--ro-bind /workspace /workspace`, meaning "the sandbox sees /workspace". Which host directory
 * backs it is a deployment fact the compiler cannot know, so this helper rewrites the source of
 * every declared bind (the plain `--bind` / `--ro-bind` the target emits for `fs:` and `ipc:`;
 * system mounts are `--ro-bind-try` and stay as they are), first match wins:
 *   1. destination `/workspace` or below → the agent's workspace directory + the same relative path;
 *   2. any other destination → `privateRoot` + the destination path (per agent, under the
 *      runner's workspace root), never the host path of the same name: a manifest cannot
 *      reach the host's /etc, home directories or the project checkout by declaring them.
 *      A declared unix socket (`ipc:`) therefore finds nothing on the local executor.
 * Destinations are unchanged, so the tool sees exactly the paths its manifest declared.
 */
import type { Artifact, EgressRule } from '../policy';

export interface CompiledSandboxOptions {
  /** Host directory seen as /workspace (one per agent, under RUNNER_WORKSPACE_ROOT). */
  workspace: string;
  /** Host directory under which declared paths outside /workspace are kept (per agent, under RUNNER_WORKSPACE_ROOT). */
  privateRoot: string;
}

export interface CompiledSandbox {
  sandbox: { bwrapArgv: string[] };
  /** Absent when the tool declares no net:connect: no proxy, no launcher, no network at all. */
  egress?: { allow: EgressRule[] };
}

export type CompiledSandboxResult = { ok: true; value: CompiledSandbox } | { ok: false; reason: 'not-bwrap-artifact' | 'undeclared-exec' };

const DECLARED_BIND = new Set(['--bind', '--ro-bind']);
const SANDBOX_WORKSPACE = '/workspace';

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

/** Host source for a declared sandbox path (rules 1–2 above). */
export function hostSourceFor(destination: string, options: CompiledSandboxOptions): string {
  if (destination === SANDBOX_WORKSPACE) return trimSlash(options.workspace);
  if (destination.startsWith(`${SANDBOX_WORKSPACE}/`))
    return `${trimSlash(options.workspace)}${destination.slice(SANDBOX_WORKSPACE.length)}`;
  return `${trimSlash(options.privateRoot)}${destination}`;
}

/**
 * `command` is the argv the call will run (run.argv after substitution, or run.mcp.command):
 * its argv[0] must be declared by an `exec:spawn` capability of this tool (the artifact's
 * `exec`), as the manifest check already demands; checked again here, fail closed.
 */
export function compiledSandbox(artifact: Artifact, command: string[], options: CompiledSandboxOptions): CompiledSandboxResult {
  if (artifact.target !== 'bwrap' || !artifact.argv || artifact.argv[0] !== 'bwrap') return { ok: false, reason: 'not-bwrap-artifact' };
  const program = command[0];
  if (program === undefined || !artifact.exec.some((entry) => entry.binary === program)) return { ok: false, reason: 'undeclared-exec' };
  const argv = [...artifact.argv];
  for (let i = 0; i < argv.length - 2; i++) {
    if (!DECLARED_BIND.has(argv[i] ?? '')) continue;
    const destination = argv[i + 2] ?? '';
    argv[i + 1] = hostSourceFor(destination, options);
    i += 2;
  }
  const allow = artifact.egress.allow.map((rule) => ({ host: rule.host, port: rule.port }));
  return { ok: true, value: { sandbox: { bwrapArgv: argv }, ...(allow.length > 0 ? { egress: { allow } } : {}) } };
}
