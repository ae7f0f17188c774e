import type { z } from '@hono/zod-openapi';
import { UpdateAgent } from '../../agents';
import type { DEFAULT_TURN_LIMITS } from '../../conversations';
import type { FieldErrors } from '../layout';
import { optionalInt } from '../page';
import type { AgentValue as Agent } from './agent-of-page';

/**
 * The agent settings form ↔ the PATCH /api/v1/agents/:id body. The page builds the same
 * `UpdateAgent` body the API takes, parses it with the same schema and hands it to the same
 * updateAgent; this file only names the form's fields and maps a refusal's field path back
 * to the input that caused it.
 */
export type UpdateAgentBody = z.infer<typeof UpdateAgent>;

export const LIMIT_FIELDS = {
  maxSteps: { field: 'limitMaxSteps', label: 'Model steps per turn', min: 1, max: 50 },
  maxToolCalls: { field: 'limitMaxToolCalls', label: 'Tool calls per turn', min: 0, max: 100 },
  maxTokensPerTurn: { field: 'limitMaxTokensPerTurn', label: 'Tokens per turn', min: 1, max: 2_000_000 },
  maxTurnMs: { field: 'limitMaxTurnMs', label: 'Time per turn (ms)', min: 1000, max: 600_000 },
  dailyTokenBudget: { field: 'limitDailyTokenBudget', label: 'Daily token budget', min: 1, max: 1_000_000_000 },
} as const satisfies Record<keyof typeof DEFAULT_TURN_LIMITS, { field: string; label: string; min: number; max: number }>;
type LimitName = keyof typeof LIMIT_FIELDS;
const LIMIT_NAMES = Object.keys(LIMIT_FIELDS) as LimitName[];

export const GUARD_FIELDS = {
  injection: 'guardInjection',
  secrets: 'guardSecrets',
  output: 'guardOutput',
  exfiltration: 'guardExfiltration',
} as const;

/** A refusal's field path (zod issue or domain problem) → the form input it lands on. */
export const FIELD_OF_PATH: Record<string, string> = {
  isolation: 'isolation',
  'settings.systemPrompt': 'systemPrompt',
  model: 'modelProvider',
  'model.provider': 'modelProvider',
  'model.model': 'modelName',
  'model.baseUrl': 'modelBaseUrl',
  'model.credential': 'modelCredential',
  ...Object.fromEntries(Object.entries(GUARD_FIELDS).map(([guard, field]) => [`guards.${guard}`, field])),
  // The classifier is kept as stored (the API sets it); a refusal about it goes above the form.
  ...Object.fromEntries(LIMIT_NAMES.map((name) => [`settings.turnLimits.${name}`, LIMIT_FIELDS[name].field])),
};

/** What each input says when the schema refuses it (never the value sent). */
const MESSAGES: Record<string, string> = {
  isolation: 'Choose an isolation level.',
  systemPrompt: 'At most 16,384 characters.',
  modelProvider: 'Choose a provider (or none, to remove the model).',
  modelName: 'Enter the model name, 1 to 128 characters.',
  modelBaseUrl: 'Enter a URL of at most 2,048 characters.',
  modelCredential: 'Choose one of the workspace’s credentials.',
  guardInjection: 'Choose off, warn or block.',
  guardSecrets: 'Choose off, warn or block.',
  guardOutput: 'Choose off, warn or block.',
  guardExfiltration: 'Choose off, withhold or approval.',
  ...Object.fromEntries(
    LIMIT_NAMES.map((name) => {
      const { field, min, max } = LIMIT_FIELDS[name];
      return [
        field,
        `Enter a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, or leave it empty for the default.`,
      ];
    }),
  ),
};

/** The form's values for an agent as stored (what the page shows before any post). */
export function formValuesOf(agent: Agent): Record<string, string> {
  const limits = (agent.settings.turnLimits ?? {}) as Partial<Record<LimitName, number>>;
  return {
    isolation: agent.isolation,
    systemPrompt: typeof agent.settings.systemPrompt === 'string' ? agent.settings.systemPrompt : '',
    modelProvider: agent.model?.provider ?? '',
    modelName: agent.model?.model ?? '',
    modelBaseUrl: agent.model?.baseUrl ?? '',
    modelCredential: agent.model?.credential ?? '',
    guardInjection: agent.guards.injection,
    guardSecrets: agent.guards.secrets,
    guardOutput: agent.guards.output,
    guardExfiltration: agent.guards.exfiltration,
    ...Object.fromEntries(LIMIT_NAMES.map((name) => [LIMIT_FIELDS[name].field, limits[name] === undefined ? '' : String(limits[name])])),
  };
}

const trimmed = (value: string | undefined) => (value ?? '').trim();
const unlessEmpty = (value: string | undefined) => (trimmed(value) === '' ? undefined : trimmed(value));

/**
 * A posted form → the PATCH body, parsed by the API's own schema, or the errors by input.
 * The parts the form does not show are kept as stored: the other agent settings, and the
 * guards' classifier (`guards` and `settings` each replace their part as a whole).
 */
export function updateFromForm(
  agent: Agent,
  form: Record<string, string | undefined>,
): { ok: true; body: UpdateAgentBody } | { ok: false; errors: FieldErrors } {
  const provider = trimmed(form.modelProvider);
  if (provider === '' && (unlessEmpty(form.modelName) ?? unlessEmpty(form.modelBaseUrl) ?? unlessEmpty(form.modelCredential)))
    return { ok: false, errors: { modelProvider: 'Choose a provider for this model, or clear the model fields.' } };
  const model =
    provider === ''
      ? null
      : {
          provider,
          model: trimmed(form.modelName),
          baseUrl: unlessEmpty(form.modelBaseUrl),
          credential: unlessEmpty(form.modelCredential),
        };
  const turnLimits = Object.fromEntries(
    LIMIT_NAMES.flatMap((name) => {
      const value = optionalInt(form[LIMIT_FIELDS[name].field]);
      return value === undefined ? [] : [[name, value]];
    }),
  );
  const { systemPrompt: _prompt, turnLimits: _limits, ...otherSettings } = agent.settings;
  const systemPrompt = form.systemPrompt ?? '';
  const candidate = {
    isolation: form.isolation,
    model: model && Object.fromEntries(Object.entries(model).filter(([, v]) => v !== undefined)),
    settings: {
      ...otherSettings,
      ...(systemPrompt.trim() === '' ? {} : { systemPrompt }),
      ...(Object.keys(turnLimits).length > 0 ? { turnLimits } : {}),
    },
    guards: {
      injection: form.guardInjection,
      secrets: form.guardSecrets,
      output: form.guardOutput,
      exfiltration: form.guardExfiltration,
      ...(agent.guards.classifier ? { classifier: agent.guards.classifier } : {}),
    },
  };
  const parsed = UpdateAgent.safeParse(candidate);
  if (parsed.success) return { ok: true, body: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = FIELD_OF_PATH[issue.path.join('.')] ?? FIELD_OF_PATH[issue.path.slice(0, 2).join('.')];
    if (field) errors[field] ??= MESSAGES[field] ?? 'Check this field.';
    else errors._form ??= 'The settings could not be saved; check the fields below.';
  }
  return { ok: false, errors };
}
