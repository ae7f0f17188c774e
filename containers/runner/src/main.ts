/**
 * `npm run runner`: starts the runner from environment configuration.
 *   RUNNER_SECRET            shared with the gateway (>= 32 characters), required; removed from
 *                            the environment on start by re-executing (secret-env.ts)
 *   RUNNER_ISOLATION         'bwrap' (local executor, default) or 'container'
 *   RUNNER_HOST/RUNNER_PORT  listen address (default 127.0.0.1:8791)
 *   RUNNER_SANDBOX_UID/GID   unprivileged identity of sandboxed processes (default 65534)
 *   RUNNER_MAX_PROCESSES     RLIMIT_NPROC of that identity (default 128)
 *   RUNNER_SANDBOX_NODE      Node binary visible inside the sandbox (default /usr/bin/node or /usr/local/bin/node)
 *   RUNNER_WORK_DIR          scratch for egress sockets (default /tmp/portcullis-runner)
 *   RUNNER_WORKSPACE_ROOT    where per-agent workspaces live (default <work dir>/workspaces)
 *   RUNNER_OPERATOR_ALLOW    operator-only private destinations, "host:port,host:port"
 *   RUNNER_UPSTREAM_CA_FILE  extra CA certificates (PEM) the egress proxy trusts upstream
 *   RUNNER_INIT              an init to re-execute under at start (the image: /usr/bin/tini), so
 *                            PID 1 reaps orphaned tool processes (secret-env.ts)
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EgressRule } from '../../../src/policy/index.ts';
import { createRunnerServer } from './server.ts';
import { takeRunnerSecret } from './secret-env.ts';
import { importRunnerKey } from '../../../src/protocol/index.ts';

function parseOperatorAllow(text: string | undefined): EgressRule[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      const port = Number(entry.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`RUNNER_OPERATOR_ALLOW: bad entry ${entry}`);
      return {
        host: entry
          .slice(0, at)
          .toLowerCase()
          .replace(/^\[|\]$/g, ''),
        port,
      };
    });
}

// Before anything else: re-executes without RUNNER_SECRET in the environment (secret-env.ts).
const source = takeRunnerSecret();
if (!source.ok) {
  console.error(`[runner] RUNNER_SECRET is required (${source.reason})`);
  process.exit(1);
}
const secret = source.secret;
const env = process.env;
const isolation = env.RUNNER_ISOLATION === 'container' ? 'container' : 'bwrap';
const workDir = env.RUNNER_WORK_DIR ?? '/tmp/portcullis-runner';
const workspaceRoot = env.RUNNER_WORKSPACE_ROOT ?? join(workDir, 'workspaces');
// 0711: the sandbox uid reaches its own socket and workspace through these, but cannot list them.
for (const dir of isolation === 'bwrap' ? [workDir, workspaceRoot] : [workDir]) {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o711);
}
const server = createRunnerServer({
  key: await importRunnerKey(secret),
  config: {
    isolation,
    workDir,
    containerWorkdir: isolation === 'container' ? (env.RUNNER_CONTAINER_WORKDIR ?? '/workspace') : undefined,
    operatorAllow: parseOperatorAllow(env.RUNNER_OPERATOR_ALLOW),
    upstreamCa: env.RUNNER_UPSTREAM_CA_FILE ? [readFileSync(env.RUNNER_UPSTREAM_CA_FILE, 'utf8')] : undefined,
    sandbox: {
      uid: Number(env.RUNNER_SANDBOX_UID ?? 65534),
      gid: Number(env.RUNNER_SANDBOX_GID ?? 65534),
      maxProcesses: Number(env.RUNNER_MAX_PROCESSES ?? 128),
      nodeInSandbox: env.RUNNER_SANDBOX_NODE ?? (existsSync('/usr/local/bin/node') ? '/usr/local/bin/node' : '/usr/bin/node'),
      workspaceRoot,
    },
    audit: (event) => console.log(JSON.stringify({ audit: event })),
  },
  log: (line) => console.log(JSON.stringify(line)),
});
const port = Number(env.RUNNER_PORT ?? 8791);
server.listen(port, env.RUNNER_HOST ?? '127.0.0.1', () =>
  console.log(`[runner] listening on ${env.RUNNER_HOST ?? '127.0.0.1'}:${port} (isolation: ${isolation})`),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
