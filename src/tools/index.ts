/**
 * Tools: installation, invocation, approvals and the executors (docs/sandbox.md "Worker
 * side"), manifest compilation over HTTP and the safe manifest fetcher.
 */
import type { Clock } from '../auth';
import { createRouter } from '../http';
import { approvalRoutes } from './approval-routes';
import { installRoutes } from './install-routes';
import { invocationRoutes } from './invocation-routes';

export { policyRoutes } from './compile-route';
export { DEFAULT_DOH_ENDPOINT, dohResolver } from './doh-resolve';
export {
  fetchManifestFromUrl,
  MANIFEST_FETCH_TIMEOUT_MS,
  type ManifestFetchDeps,
  type ManifestFetchFailure,
  type ManifestFetchResult,
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_REDIRECTS,
  type UrlRefusal,
} from './manifest-fetcher';
export { allowlistCovers, type ArgumentsCheck, globMatches, substituteArgv, validateArguments } from './arguments';
export {
  ARGUMENT_ARRAY_MAX_ITEMS,
  ARGUMENT_KEY_MAX_CHARS,
  ARGUMENT_OBJECT_MAX_PROPERTIES,
  ARGUMENT_STRING_MAX_CHARS,
  ARGUMENTS_MAX_BYTES,
  ARGUMENTS_MAX_DEPTH,
} from './argument-limits';
export { INPUT_SCHEMA_MAX_DEPTH, inputSchemaProblem } from './input-schema';
export { PATTERN_MAX_CHARS, type PatternRule, unsafePatternRule } from './pattern-safety';
export { APPROVAL_TTL_MS, argumentsHash, expireStaleApprovals } from './approval-store';
export {
  callerOf,
  installedToolsOf,
  invocationInWorkspace,
  invocationView,
  invokeTool,
  type InvocationOutcome,
  type InvocationRow,
  type InvokeContext,
  type ToolCaller,
} from './invoke';
export { findInstalledTool, installedToolView, manifestToolOf, type InstalledToolRow } from './installed';
export type { AgentRow, RunContext, StoredResult } from './run';
export { readToolConfig, type ToolConfig, type ToolConfigProblem } from './config';
export { ToolConcurrency } from './concurrency-object';
export type { CredentialBinding, ToolExecutor, ToolRunOutcome, ToolRunRequest, ToolRunResult } from './executor';
export { decideOutbound, OUTBOUND_MAX_BODY_BYTES, type OutboundDecision, type OutboundPolicy } from './outbound';
export { ToolSandbox, toolEgressHandler } from './sandbox-object';
export { PLACEHOLDER_PREFIX } from './tool-env';

/** Every /api/v1 tools route: installation, invocations, approvals. */
export function toolRoutes(deps: { now: Clock; fetch: typeof fetch }) {
  const router = createRouter();
  router.route('/', installRoutes(deps));
  router.route('/', invocationRoutes(deps));
  router.route('/', approvalRoutes(deps));
  return router;
}
