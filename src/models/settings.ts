import { z } from '@hono/zod-openapi';
import { CredentialName } from '../vault';

/**
 * The providers the runtime can call. `workers-ai` (the `AI` binding through
 * workers-ai-provider) is not offered yet: it needs an `[ai]` binding this deployment does
 * not declare, and a provider that cannot run must not be configurable.
 */
export const MODEL_PROVIDERS = ['openai-compatible', 'anthropic'] as const;
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
    model: z.string().min(1).max(128),
    baseUrl: z.string().min(1).max(MODEL_BASE_URL_MAX_CHARS).optional().openapi({
      description:
        'https only, no private address, except `host:port` pairs listed in MODEL_PRIVATE_HOSTS (which may also be http). Required for openai-compatible; anthropic defaults to https://api.anthropic.com/v1.',
    }),
    credential: CredentialName.optional().openapi({ description: 'Name of the vault credential holding the provider API key.' }),
  })
  .openapi('ModelSettings');
export type ModelSettings = z.infer<typeof ModelSettings>;

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com/v1';
