import type { LanguageModel } from 'ai';
import type { Env } from '../env';
import { credentialRef, openSecret } from '../vault';
import { checkModelBaseUrl, modelPrivateHosts } from './base-url';
import { guardedModelFetch, languageModelFor } from './provider';
import { modelShapeProblem, type ModelSettings } from './settings';
import { guardedAiBinding, type AiRunner } from './workers-ai';

/**
 * Why a model could not even be called: the stored settings no longer pass (`not-configured`:
 * the base URL is refused now, the credential is gone or the vault cannot open it), or the
 * deployment has no `AI` binding for a workers-ai model (`binding-missing`).
 */
export type ModelSetupFailure = 'not-configured' | 'binding-missing';

/** A model ready to call: one SDK model per call, each bound to that call's signal (deadline). */
export interface ModelClient {
  languageModel(signal: AbortSignal): LanguageModel;
}

/**
 * The settings → a client, checked again at call time (the agent's model and the guards'
 * classifier go through here), first match wins:
 * 1. the provider's shape fails modelShapeProblem (the rules the agents API applies when
 *    saving: openai-compatible needs a baseUrl, workers-ai takes none …) → not-configured;
 * 2. workers-ai: the deployment's `AI` binding is missing → binding-missing; else a client on
 *    the guarded binding (no URL, no key);
 * 3. the baseUrl fails checkModelBaseUrl now (MODEL_PRIVATE_HOSTS may have changed) → not-configured;
 * 4. a named credential the vault cannot open → not-configured;
 * 5. otherwise a client whose every request goes through guardedModelFetch.
 * The key lives only in the returned closure: never stored, returned or logged.
 */
export async function openModelClient(
  deps: { env: Env; fetch: typeof fetch },
  workspaceId: string,
  settings: ModelSettings,
): Promise<{ ok: true; client: ModelClient } | { ok: false; failure: ModelSetupFailure }> {
  const model = { provider: settings.provider, model: settings.model };
  // 1
  if (modelShapeProblem(settings)) return { ok: false, failure: 'not-configured' };
  // 2. The generated type says the binding is there; a deployment may still lack it.
  if (settings.provider === 'workers-ai') {
    const ai = (deps.env as { AI?: AiRunner }).AI;
    if (!ai || typeof ai.run !== 'function') return { ok: false, failure: 'binding-missing' };
    return {
      ok: true,
      client: {
        languageModel: (signal) =>
          languageModelFor(model, { fetch: deps.fetch, apiKey: null, baseUrl: null, ai: guardedAiBinding(ai, { signal }) }),
      },
    };
  }
  // 3
  const base = settings.baseUrl ? checkModelBaseUrl(settings.baseUrl, modelPrivateHosts(deps.env.MODEL_PRIVATE_HOSTS)) : null;
  if (base && !base.ok) return { ok: false, failure: 'not-configured' };
  // 4
  let apiKey: string | null = null;
  if (settings.credential) {
    const opened = await openSecret(deps.env, credentialRef(workspaceId, settings.credential));
    if (!opened.ok) return { ok: false, failure: 'not-configured' };
    apiKey = opened.value;
  }
  // 5
  const baseUrl = base?.ok ? base.url.href.replace(/\/$/, '') : null;
  return {
    ok: true,
    client: { languageModel: (signal) => languageModelFor(model, { fetch: guardedModelFetch(deps.fetch, { signal }), apiKey, baseUrl }) },
  };
}
