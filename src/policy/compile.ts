/**
 * compileManifest: manifest (unknown JSON) → validated manifest → NormalizedPolicy → the
 * artifact of one target. Pure and synchronous; the CLI, the HTTP route and the runner call
 * this one function, so they always agree.
 */
import { type Artifact, type EgressTarget, type Target } from './artifact';
import { compileBwrap } from './target-bwrap';
import { compileCloudflare } from './target-cloudflare';
import { compileDocker } from './target-docker';
import { compileEgress } from './target-egress';
import { compileK8s } from './target-k8s';
import { type PolicyError, policyError } from './errors';
import type { CapabilityOptions } from './capability';
import { parseManifest } from './manifest';
import { type NormalizedPolicy, normalizePolicy } from './normalize';

export interface CompileOptions {
  target: Target;
  /** For target 'egress'; default 'squid'. */
  egressTarget?: EgressTarget;
  /** Compile only this tool's capabilities (the runtime sandboxes each call this way). */
  tool?: string;
  /** DNS resolvers the nftables ruleset lets through; default Cloudflare's public resolvers. */
  dnsResolvers?: string[];
  /** Operator allowances a private `net:connect` must match exactly (CapabilityOptions). */
  privateAllowed?: CapabilityOptions['privateAllowed'];
}

export type CompileResult = { ok: true; artifact: Artifact; policy: NormalizedPolicy } | { ok: false; error: PolicyError };

export type PolicyResult = { ok: true; policy: NormalizedPolicy } | { ok: false; error: PolicyError };

/** Manifest → IR, for the whole server or one tool. */
export function compilePolicy(input: unknown, tool?: string, options: CapabilityOptions = {}): PolicyResult {
  const parsed = parseManifest(input, options);
  if (!parsed.ok) return parsed;
  const policy = normalizePolicy(parsed.value, tool);
  if (policy === null) return { ok: false, error: policyError('TOOL_NOT_FOUND', 'tool', tool) };
  return { ok: true, policy };
}

export function adapt(policy: NormalizedPolicy, options: CompileOptions): Artifact {
  switch (options.target) {
    case 'bwrap':
      return compileBwrap(policy);
    case 'docker':
      return compileDocker(policy);
    case 'egress':
      return compileEgress(policy, options.egressTarget ?? 'squid', options.dnsResolvers);
    case 'cloudflare':
      return compileCloudflare(policy);
    case 'k8s':
      return compileK8s(policy);
  }
}

export function compileManifest(input: unknown, options: CompileOptions): CompileResult {
  const result = compilePolicy(input, options.tool, { privateAllowed: options.privateAllowed });
  if (!result.ok) return result;
  return { ok: true, artifact: adapt(result.policy, options), policy: result.policy };
}
