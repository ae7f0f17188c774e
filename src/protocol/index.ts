/**
 * What the Worker and the tool runner must agree on byte for byte: request signing, the
 * sandbox arguments built from a compiled `bwrap` artifact, and the forms of a secret that
 * redaction removes. Pure (WebCrypto and the pure folders src/lib and src/policy only), so
 * both sides import this one copy instead of one reaching into the other's files
 * (docs/architecture.md).
 */
export {
  RUNNER_SECRET_MIN_LENGTH,
  RUNNER_SIGNATURE_HEADER,
  RUNNER_SIGNATURE_MAX_AGE_S,
  RUNNER_TIMESTAMP_HEADER,
  createReplayGuard,
  deriveInstanceSecret,
  importRunnerKey,
  signRunnerRequest,
  verifyRunnerRequest,
  type RunnerKey,
  type SignatureCheck,
  type SignatureFailure,
  type SignInput,
  type VerifyInput,
} from './signing';
export {
  compiledSandbox,
  hostSourceFor,
  type CompiledSandbox,
  type CompiledSandboxOptions,
  type CompiledSandboxResult,
} from './compiled-sandbox';
export {
  MIN_BASE64_FORM_CHARS,
  MIN_REDACTABLE_CHARS,
  redactSecrets,
  secretByteScrubber,
  secretForms,
  secretRedactor,
  type ByteScrubber,
} from './secret-forms';
