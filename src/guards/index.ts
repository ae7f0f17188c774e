/**
 * Agent guards (docs/agents.md "Guards"): small checks the agent runtime calls at fixed
 * points of a turn, each named after the concern it enforces, each configurable per agent.
 */
export { breakerRegistry, CLASSIFIER_BREAKERS_MAX, classifierBreakerKey, classifierBreakers, type BreakerRegistry } from './breakers';
export { CLASSIFIER_SYSTEM_PROMPT, classifierMessages, parseClassifierAnswer } from './classifier';
export { classifierFor } from './classifier-model';
export { exfiltrationDecision, exfiltrationVerdict, toolHasEgress, type ExfiltrationDecision } from './exfiltration';
export {
  BREAKER_MAX_OPEN_MS,
  BREAKER_OPEN_MS,
  BREAKER_THRESHOLD,
  breakerAdmit,
  breakerCell,
  breakerRecord,
  checkInjection,
  CLASSIFIER_MAX_CHARS,
  CLASSIFIER_TIMEOUT_MS,
  ClassifierFailure,
  CLOSED_BREAKER,
  injectionHeuristics,
  type BreakerCell,
  type BreakerState,
  type Classifier,
  type InjectionDeps,
} from './injection';
export { INJECTION_RULES } from './injection-rules';
export { FETCHING_ELEMENTS, filterReply, HTML_REMOVED, IMAGE_REMOVED, MENTION_REMOVED, type FilterOptions } from './output';
export {
  guardInboundSecrets,
  guardReplySecrets,
  scanSecrets,
  SECRET_REDACTED,
  SECRET_SHAPES,
  secretNotice,
  type SecretScan,
  type SecretShape,
} from './secrets';
export {
  DEFAULT_GUARDS,
  EXFILTRATION_MODES,
  GUARD_MODES,
  GuardClassifierSettings,
  GuardSettings,
  resolveGuards,
  ResolvedGuardsView,
  type ClassifierSettings,
  type ExfiltrationMode,
  type GuardMode,
  type GuardName,
  type GuardOutcome,
  type GuardSettingsInput,
  type GuardVerdict,
  type ResolvedGuards,
} from './settings';
export { foldForDetection } from './skeleton';
export { auditableReasons, recordGuardVerdict, recordGuardVerdicts, type VerdictPlace } from './verdicts';
export {
  hasMarkerLookalike,
  MARKER_NAME,
  MARKER_REMOVED,
  neutraliseMarkers,
  UNTRUSTED_CONTENT_RULE,
  wrapUntrusted,
  type UntrustedSource,
} from './wrap';
