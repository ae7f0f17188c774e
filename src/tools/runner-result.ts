/** The runner's 200 answer (docs/sandbox.md "How a call runs"), parsed at the boundary: a runner is not trusted to be well-formed. */
import { z } from 'zod';
import type { ToolRunResult } from './executor';

const RunnerAnswer = z.object({
  exitCode: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  durationMs: z.number().nonnegative(),
  stopReason: z.enum(['exit', 'timeout', 'output-limit', 'killed']),
  egressEvents: z
    .array(
      z.object({
        type: z.string().max(64).optional(),
        host: z.string().max(253),
        port: z.number().int(),
        allow: z.boolean().optional(),
        rule: z.number().int().optional(),
        reason: z.string().max(64).optional(),
      }),
    )
    .max(1024)
    .default([]),
});

export function parseRunnerAnswer(json: unknown): ToolRunResult | null {
  const parsed = RunnerAnswer.safeParse(json);
  if (!parsed.success) return null;
  const answer = parsed.data;
  return {
    exitCode: answer.exitCode,
    stdout: answer.stdout,
    stderr: answer.stderr,
    truncated: answer.truncated,
    durationMs: Math.round(answer.durationMs),
    stopReason: answer.stopReason,
    // Placeholder events carry no decision fields: a refusal is a deny, a swap rides on an allow.
    egressEvents: answer.egressEvents.map((e) => ({
      host: e.host,
      port: e.port,
      allow: e.type === 'egress.placeholder_refused' ? false : (e.allow ?? false),
      rule: e.rule ?? 0,
      reason: e.reason ?? (e.type === 'egress.placeholder_refused' ? 'placeholder-foreign-host' : e.type === 'egress.placeholder_swapped' ? 'placeholder-swapped' : 'unknown'),
    })),
  };
}
