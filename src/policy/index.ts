/**
 * Capability policy: grammar → IR → adapters, and the egress decision. Pure TypeScript shared
 * by the Worker, the CLI and the runner (imports only src/lib). See docs/policy.md.
 */
export { type Artifact, type EgressTarget, EGRESS_TARGETS, type EnvInjection, type Target, TARGETS, type Unenforceable } from './artifact';
export { DEFAULT_DNS_RESOLVERS } from './target-egress';
export {
  type Capability,
  type CapabilityOptions,
  capabilityText,
  DEFAULT_NET_PORT,
  MAX_CAPABILITY_LENGTH,
  parseCapability,
} from './capability';
export { adapt, type CompileOptions, compileManifest, compilePolicy, type CompileResult, type PolicyResult } from './compile';
export { decideEgress, type EgressDecision, type EgressDenyReason, type EgressPolicy, type EgressRequest, type EgressRule } from './egress';
export {
  CAPABILITY_ERROR_CODES,
  type CapabilityErrorCode,
  formatPolicyError,
  MANIFEST_ERROR_CODES,
  type PolicyError,
  type PolicyErrorCode,
  quoteValue,
  REASONS,
} from './errors';
export { ENFORCED_ASSERTIONS } from './assertions';
export { NAMED_IPC_ENDPOINTS } from './ipc-endpoints';
export { hostPortList, hostText, isPrivateAddress, type ParsedHost, parseHost } from './host';
export { SPECIAL_IPV4, SPECIAL_IPV6, type SpecialRange } from './ip';
export { GRAMMAR_VERSION, type Manifest, ManifestSchema, type ManifestTool, parseManifest } from './manifest';
export {
  type Assertion,
  type FsGrant,
  type IpcGrant,
  manifestProvenance,
  type NetGrant,
  type NormalizedPolicy,
  normalizePolicy,
} from './normalize';
export {
  canonicalHost,
  decodeBasic,
  DEFAULT_CREDENTIAL_HEADER,
  type HeaderList,
  isBoundTo,
  type OutgoingRequest,
  type PlaceholderBinding as PlaceholderRule,
  type PlaceholderPlan,
  planPlaceholders,
  swapPlaceholderHeaders,
} from './placeholders';
