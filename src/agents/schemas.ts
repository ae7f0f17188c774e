import { z } from '@hono/zod-openapi';
import { ISOLATION_LEVELS } from '../db';
import { GuardSettings, ResolvedGuardsView } from '../guards';
import { ModelSettings } from '../models';

/**
 * Per-turn limits of the agent runtime (docs/agents.md "Limits"); each one hit ends the turn
 * with a reply that says so. Omitted fields take the defaults in src/conversations/limits.ts.
 */
export const TurnLimits = z
  .strictObject({
    maxSteps: z.number().int().min(1).max(50).optional(),
    maxToolCalls: z.number().int().min(0).max(100).optional(),
    maxTokensPerTurn: z.number().int().min(1).max(2_000_000).optional(),
    maxTurnMs: z.number().int().min(1000).max(600_000).optional(),
    dailyTokenBudget: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .openapi('TurnLimits');

/** Agent settings: a closed set of fields (unknown keys are refused, not stored). */
export const AgentSettings = z
  .strictObject({
    systemPrompt: z.string().max(16_384).optional(),
    /** Legacy free-text label, kept readable for existing agents; the runtime uses the top-level `model` object. */
    model: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .openapi({ description: 'Legacy label, not used by the runtime: set the top-level `model` object instead.' }),
    maxOutputTokens: z.number().int().min(1).max(200_000).optional(),
    /** Per-call tool timeout in ms; capped by the deployment's maximum (docs/sandbox.md). */
    toolTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    /** How many tool calls of this agent may run at once. */
    maxConcurrentTools: z.number().int().min(1).max(16).optional(),
    turnLimits: TurnLimits.optional(),
  })
  .openapi('AgentSettings');

export const Isolation = z.enum(ISOLATION_LEVELS).openapi({
  description:
    '`container` (production default), `sandbox` (local bubblewrap), `unrestricted` (refused unless the deployment sets DANGEROUSLY_ALLOW_UNRESTRICTED_TOOLS=true)',
});

export const CreateAgent = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    description: z.string().max(1000).optional(),
    settings: AgentSettings.optional(),
    isolation: Isolation.optional(),
    model: ModelSettings.optional(),
    guards: GuardSettings.optional(),
  })
  .openapi('CreateAgentRequest');

export const UpdateAgent = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(1000).optional(),
    settings: AgentSettings.optional(),
    isolation: Isolation.optional(),
    /** null removes the model: the agent then answers channels with "no agent runtime configured". */
    model: ModelSettings.nullable().optional(),
    /** Replaces the stored guards as a whole (like `settings`); a field left out takes its strict default. */
    guards: GuardSettings.optional(),
  })
  .openapi('UpdateAgentRequest');

export const AgentView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    settings: AgentSettings,
    isolation: Isolation,
    model: ModelSettings.nullable(),
    /** The guards in force: stored settings with every default filled in (docs/agents.md "Guards"). */
    guards: ResolvedGuardsView,
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi('Agent');

export const AgentUpdated = AgentView.extend({
  note: z.string().optional().openapi({ description: 'Present when isolation changed: it applies to new sandboxes only.' }),
}).openapi('AgentUpdated');

export const AgentList = z.object({ agents: z.array(AgentView) }).openapi('AgentList');
export const AgentIdParams = z.object({ id: z.string().min(1).max(64) });
