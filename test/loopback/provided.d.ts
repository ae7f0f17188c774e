/**
 * What the Workers pool's global setup (workers-global-setup.ts, Node) hands the tests
 * (workerd) through vitest's provide/inject: where the scripted model server and the real
 * local runner listen, and what the gateway needs to reach them.
 */
export interface LoopbackWorld {
  /** The scripted model server (model-server.ts): `http://127.0.0.1:<port>`. */
  modelOrigin: string;
  /** The same as a MODEL_PRIVATE_HOSTS entry: `127.0.0.1:<port>`. */
  modelHost: string;
  /** The bundled runner (dist/runner.mjs, bubblewrap): `http://127.0.0.1:<port>`. */
  runnerUrl: string;
  /** This run's RUNNER_SECRET, fresh each run, shared by the gateway's binding and the runner. */
  runnerSecret: string;
  /** The runner's RUNNER_WORKSPACE_ROOT, a fresh scratch directory. */
  runnerWorkspaceRoot: string;
  /** The unprivileged uid every sandboxed process of this runner runs as. */
  sandboxUid: number;
}

declare module 'vitest' {
  interface ProvidedContext {
    /** `missing`: this machine cannot sandbox (not Linux, not root, no bwrap); the message says what to install. */
    loopback: LoopbackWorld | { missing: string };
  }
}
