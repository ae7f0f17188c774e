/**
 * The injection classifier of `guards.classifier` as the runtime builds it: one model step
 * through the same client as the agent's own model (src/models openModelClient: base URL
 * checked again, key from the vault, guarded fetch or guarded AI binding, no retries), with
 * the fixed prompt and the strict answer reader of classifier.ts. Its breaker is the isolate's
 * one for this workspace and these settings (breakers.ts), so it lives across turns.
 */
import type { Env } from '../env';
import { modelStep, openModelClient } from '../models';
import { classifierBreakerKey, classifierBreakers } from './breakers';
import { classifierMessages, parseClassifierAnswer } from './classifier';
import { ClassifierFailure, type BreakerCell, type Classifier } from './injection';
import type { ClassifierSettings } from './settings';

/** Enough for `{"injection": false}` in any tokenizer; a longer answer is malformed anyway. */
const CLASSIFIER_MAX_OUTPUT_TOKENS = 16;

/**
 * Null without settings (heuristics only). Otherwise the breaker, and the classifier unless
 * it cannot be built (settings that no longer pass, a missing AI binding): checkInjection
 * rule 4 then treats it as failed.
 */
export async function classifierFor(
  deps: { env: Env; fetch: typeof fetch },
  workspaceId: string,
  settings: ClassifierSettings | null,
): Promise<{ classify?: Classifier; breaker: BreakerCell } | null> {
  if (!settings) return null;
  const breaker = classifierBreakers.cell(classifierBreakerKey(workspaceId, settings));
  const opened = await openModelClient(deps, workspaceId, settings);
  if (!opened.ok) return { breaker };
  const classify: Classifier = async (text, signal, source) => {
    const { system, user } = classifierMessages(text, source);
    const step = await modelStep({
      model: opened.client.languageModel(signal),
      system,
      messages: [{ role: 'user', content: user }],
      tools: [],
      maxOutputTokens: CLASSIFIER_MAX_OUTPUT_TOKENS,
      signal,
    });
    if (!step.ok) throw new ClassifierFailure(step.failure);
    const answer = parseClassifierAnswer(step.text);
    if (!answer) throw new ClassifierFailure('malformed-answer');
    return answer;
  };
  return { classify, breaker };
}
