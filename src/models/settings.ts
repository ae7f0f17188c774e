import { z } from '@hono/zod-openapi';
import { CredentialName } from '../vault';

/**
 * The providers the runtime can call: Chat Completions by base URL, the Anthropic Messages
 * API, and Workers AI through the deployment's `AI` binding (wrangler.toml `[ai]`,
 * workers-ai-provider), which takes neither a base URL nor a key.
 */
export const MODEL_PROVIDERS = ['openai-compatible', 'anthropic', 'workers-ai'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** Longest base URL accepted (the same bound the manifest fetcher uses). */
export const MODEL_BASE_URL_MAX_CHARS = 2048;

/**
 * Per-agent model settings (`PATCH /api/v1/agents/:id {"model":{…}}`). `credential` names a
 * workspace vault credential that holds the provider key: the key itself is never stored
 * here, never returned and never logged.
 */
export const ModelSettings = z
  .strictObject({
    provider: z.enum(MODEL_PROVIDERS),
    model: z.string().min(1).max(128).openapi({ description: "The provider's model id; for workers-ai an `@cf/…` or `@hf/…` id." }),
    baseUrl: z.string().min(1).max(MODEL_BASE_URL_MAX_CHARS).optional().openapi({
      description:
        'https only, no private address, except `host:port` pairs listed in MODEL_PRIVATE_HOSTS (which may also be http). Required for openai-compatible; anthropic defaults to https://api.anthropic.com/v1; refused for workers-ai (the AI binding is used).',
    }),
    credential: CredentialName.optional().openapi({
      description: 'Name of the vault credential holding the provider API key. Refused for workers-ai (the binding needs no key).',
    }),
  })
  .openapi('ModelSettings');
export type ModelSettings = z.infer<typeof ModelSettings>;

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';

/** Workers AI model ids: `@cf/<author>/<model>` or `@hf/…`. Other ids would route through AI Gateway, which this provider does not set up. */
export const WORKERS_AI_MODEL = /^@(?:cf|hf)\/[A-Za-z0-9._-]+\/[A-Za-z0-9._:-]+$/;

/**
 * What a provider's settings must (not) carry, before any base URL or vault check (the agents
 * API's modelProblem rule 1, docs/agents.md "Models"), first match wins:
 * 1. openai-compatible without a baseUrl → baseUrl;
 * 2. workers-ai with a baseUrl (it calls the AI binding, never a URL) → baseUrl;
 * 3. workers-ai with a credential (the binding needs no key; one named here would never be used) → credential;
 * 4. workers-ai with a model id that is not `@cf/…` or `@hf/…` (another id routes through AI Gateway) → model;
 * 5. otherwise none.
 */
export function modelShapeProblem(model: ModelSettings): { field: 'baseUrl' | 'credential' | 'model'; message: string } | null {
  if (model.provider === 'openai-compatible' && model.baseUrl === undefined)
    return { field: 'baseUrl', message: 'An openai-compatible model needs a baseUrl.' };
  if (model.provider !== 'workers-ai') return null;
  if (model.baseUrl !== undefined) return { field: 'baseUrl', message: 'A workers-ai model takes no baseUrl: it runs on the AI binding.' };
  if (model.credential !== undefined)
    return { field: 'credential', message: 'A workers-ai model takes no credential: the AI binding needs no key.' };
  if (!WORKERS_AI_MODEL.test(model.model)) return { field: 'model', message: 'A workers-ai model id starts with @cf/ or @hf/.' };
  return null;
}
