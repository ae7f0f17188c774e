import type { StoredMessage } from './types';

/**
 * A resumed turn that has started (meta `resume-run`, conversation-object.ts resume()): found
 * by a fresh run, it was cut by an eviction or restart and is reported, never run again.
 */
export interface ResumeRun {
  approvalId: string;
  startedAt: number;
  /** The lease the resumed turn took, so the next run can free it (its holder is gone). */
  lease: string | null;
}

/** A paused turn whose settling failed before it was taken is looked at again after this long (not in a hot loop). */
export const SETTLE_RETRY_MS = 30_000;

export const UNKNOWN_RESULT_AFTER_RESTART = 'Unknown: the gateway restarted while this call was handled.';

/**
 * A tool result for every tool call of the transcript that has none (a turn cut between the
 * model's call and its result), so the history a model is given next stays valid.
 */
export function unansweredToolResults(messages: StoredMessage[]): StoredMessage[] {
  const answered = new Set<string>();
  const asked: Array<{ toolCallId: string; toolName: string }> = [];
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type === 'tool-call') asked.push({ toolCallId: part.toolCallId, toolName: part.toolName });
      else if (part.type === 'tool-result') answered.add(part.toolCallId);
    }
  }
  return asked
    .filter((call) => !answered.has(call.toolCallId))
    .map((call) => ({
      role: 'tool',
      content: [{ type: 'tool-result', ...call, output: { type: 'text', value: UNKNOWN_RESULT_AFTER_RESTART } }],
    }));
}
