/** Models: per-agent settings, base URL checks, the providers and one guarded model step (docs/agents.md "Models"). */
export {
  ANTHROPIC_DEFAULT_BASE_URL,
  MODEL_BASE_URL_MAX_CHARS,
  MODEL_PROVIDERS,
  ModelSettings,
  modelShapeProblem,
  WORKERS_AI_MODEL,
  type ModelProvider,
} from './settings';
export { checkModelBaseUrl, modelPrivateHosts, type BaseUrlRefusal } from './base-url';
export { openModelClient, type ModelClient, type ModelSetupFailure } from './client';
export {
  guardedModelFetch,
  languageModelFor,
  MODEL_CALL_TIMEOUT_MS,
  MODEL_RESPONSE_MAX_BYTES,
  ModelCallError,
  type ModelFailure,
} from './provider';
export { modelFailureOf, modelStep, type ModelStepResult, type ModelToolCall, type ModelUsage, type OfferedTool } from './step';
export { guardedAiBinding, type AiRunner } from './workers-ai';
