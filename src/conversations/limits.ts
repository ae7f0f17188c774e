/**
 * Turn limits (docs/agents.md "Limits"). Each is checked where it can be exceeded, and the
 * first one hit ends the turn with a reply that names it:
 * 1. daily token budget of the agent (UTC day, from agent_turn_usage) — before the first model step;
 * 2. wall time of the turn (time running, not time waiting for an approval) — before every model step and every tool call;
 * 3. model steps per turn — before every model step;
 * 4. tokens per turn (input + output) — after every model step;
 * 5. tool calls per turn — before every tool call.
 */
export const DEFAULT_TURN_LIMITS = {
  maxSteps: 8,
  maxToolCalls: 16,
  maxTokensPerTurn: 200_000,
  maxTurnMs: 120_000,
  dailyTokenBudget: 2_000_000,
} as const;

export type TurnLimits = { -readonly [K in keyof typeof DEFAULT_TURN_LIMITS]: number };

export function resolveTurnLimits(settings: Record<string, unknown>): TurnLimits {
  const given = (settings.turnLimits ?? {}) as Partial<TurnLimits>;
  return { ...DEFAULT_TURN_LIMITS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => typeof v === 'number')) };
}

/** How long a second message waits for the turn before it (then: busy). */
export const TURN_QUEUE_WAIT_MS = 30_000;

export const LIMIT_REPLIES = {
  'limit-steps': 'I stopped: this turn reached its limit of model steps.',
  'limit-tool-calls': 'I stopped: this turn reached its limit of tool calls.',
  'limit-tokens': 'I stopped: this turn reached its token limit.',
  'limit-wall-time': 'I stopped: this turn reached its time limit.',
  'limit-daily-budget': "I can't answer now: this agent has used its daily token budget.",
} as const;
