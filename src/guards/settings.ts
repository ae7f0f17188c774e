/**
 * Per-agent guard settings, stored under the agent's `guards` (PATCH /api/v1/agents/:id).
 * Every field is optional and every default is the strict one, so an agent nobody
 * configured is fully guarded, and a stored value that no longer parses resolves to the
 * defaults (fail closed), never to "off".
 *
 * Modes: `off` does nothing; `warn` records a verdict and changes nothing; `block` enforces
 * (the text is refused or rewritten). The exfiltration guard has its own modes: `withhold`
 * removes egress tools from a tainted turn and refuses them at dispatch, `approval` turns
 * such a call into one that needs a human's approval.
 */
import { z } from '@hono/zod-openapi';
import { ModelSettings } from '../models';

export const GUARD_MODES = ['off', 'warn', 'block'] as const;
export const EXFILTRATION_MODES = ['off', 'withhold', 'approval'] as const;
export type GuardMode = (typeof GUARD_MODES)[number];
export type ExfiltrationMode = (typeof EXFILTRATION_MODES)[number];

const Mode = z.enum(GUARD_MODES);

/**
 * The optional second model that classifies text as injection or not: exactly an agent's
 * model settings (src/models ModelSettings). The agents API checks it like the agent's model
 * when it is saved (base URL rules, the credential exists); the runtime builds the Classifier
 * from it and opens `credential` from the vault (the key is never stored here).
 */
export const GuardClassifierSettings = ModelSettings;

export const GuardSettings = z
  .strictObject({
    injection: Mode.optional().openapi({ description: 'Prompt-injection check on inbound text and tool output (default block)' }),
    secrets: Mode.optional().openapi({ description: 'Secret scanning of inbound text and replies (default block)' }),
    exfiltration: z
      .enum(EXFILTRATION_MODES)
      .optional()
      .openapi({ description: 'Egress tools once a turn saw untrusted content: withheld (default) or need approval' }),
    output: Mode.optional().openapi({ description: 'Reply filter: mass mentions, raw HTML, images to unknown hosts (default block)' }),
    classifier: GuardClassifierSettings.optional(),
  })
  .openapi('GuardSettings');

export type GuardSettingsInput = z.infer<typeof GuardSettings>;
export type ClassifierSettings = z.infer<typeof GuardClassifierSettings>;

export interface ResolvedGuards {
  injection: GuardMode;
  secrets: GuardMode;
  exfiltration: ExfiltrationMode;
  output: GuardMode;
  /** null: heuristics only. */
  classifier: ClassifierSettings | null;
}

export const DEFAULT_GUARDS: Readonly<ResolvedGuards> = Object.freeze({
  injection: 'block',
  secrets: 'block',
  exfiltration: 'withhold',
  output: 'block',
  classifier: null,
});

/** The resolved guards as agents' views show them. */
export const ResolvedGuardsView = z
  .object({
    injection: Mode,
    secrets: Mode,
    exfiltration: z.enum(EXFILTRATION_MODES),
    output: Mode,
    classifier: GuardClassifierSettings.nullable(),
  })
  .openapi('ResolvedGuards');

/** Stored settings (any value) → the guards in force; anything unparseable → DEFAULT_GUARDS. */
export function resolveGuards(settings: unknown): ResolvedGuards {
  const parsed = GuardSettings.safeParse(settings ?? {});
  if (!parsed.success) return { ...DEFAULT_GUARDS };
  const value = parsed.data;
  return {
    injection: value.injection ?? DEFAULT_GUARDS.injection,
    secrets: value.secrets ?? DEFAULT_GUARDS.secrets,
    exfiltration: value.exfiltration ?? DEFAULT_GUARDS.exfiltration,
    output: value.output ?? DEFAULT_GUARDS.output,
    classifier: value.classifier ?? null,
  };
}

export type GuardName = 'injection' | 'secrets' | 'exfiltration' | 'output';
export type GuardOutcome = 'pass' | 'warned' | 'blocked' | 'withheld' | 'needs-approval';

/**
 * What one guard decided about one text or tool. `reasons` are rule ids and kinds (e.g.
 * `ignore-instructions`, `github-token`, `mass-mention`), never the offending text or a secret.
 */
export interface GuardVerdict {
  guard: GuardName;
  mode: string;
  outcome: GuardOutcome;
  reasons: string[];
}
