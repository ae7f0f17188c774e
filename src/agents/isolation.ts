import type { IsolationLevel } from '../db';
import type { Env } from '../env';

/**
 * `unrestricted` is refused unless the operator sets this variable to exactly "true" (the
 * name says what it does), and health checks report it. Even then its tools still run in
 * the sandbox the deployment has, with their compiled policy (tools-invoke.test.ts,
 * test/node/unrestricted-sandbox.test.ts); run.ts rule 1.
 */
export const UNRESTRICTED_FLAG = 'DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS';

export function unrestrictedAllowed(env: Pick<Env, 'DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS'>): boolean {
  return env.DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS === 'true';
}

export function isolationAllowed(level: IsolationLevel, env: Pick<Env, 'DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS'>): boolean {
  return level !== 'unrestricted' || unrestrictedAllowed(env);
}
