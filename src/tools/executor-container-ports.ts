/**
 * Cloudflare intercepts a container's traffic on ports 80 and 443 only (`interceptHttps` and
 * the HTTP outbound handler). A destination on any other port would never reach ToolSandbox's
 * outbound handler, so its policy could not be enforced there: a tool that runs in a container
 * and declares one is refused at install (docs/sandbox.md "Ports and DNS").
 */
import type { Env } from '../env';

export const CONTAINER_INTERCEPTED_PORTS: readonly number[] = [80, 443];

/** The tool runs in a ToolSandbox: the agent demands a container, or the deployment has no other executor. */
export function runsInContainer(agent: { isolation: string }, env: Pick<Env, 'TOOL_EXECUTOR'>): boolean {
  return agent.isolation === 'container' || env.TOOL_EXECUTOR === 'container';
}

/** The first declared destination the container path cannot enforce, or null. */
export function uninterceptedDestination(net: ReadonlyArray<{ host: string; port: number }>): { host: string; port: number } | null {
  return net.find((grant) => !CONTAINER_INTERCEPTED_PORTS.includes(grant.port)) ?? null;
}
