/**
 * The points in the turn loop where the guards (src/guards, helper B's branch) plug in.
 * Until that branch is merged these do only what is real today and say so: nothing here
 * claims a check it does not make. Each TODO names the guard that belongs at the point
 * (docs/agents.md "Guards").
 */
import type { OfferedTool } from '../models';
import type { WorkspaceRedactor } from '../vault';

/**
 * Inbound user text, before it reaches the model.
 * TODO(guards): scanSecrets (a pasted key is not sent; the user is told) and checkInjection;
 * channel text from anyone but the operator → wrapUntrusted(text, 'channel').
 */
export function inboundTextForModel(text: string): string {
  return text;
}

/**
 * Tool output as the model sees it: a JSON object that names it as the tool's output.
 * TODO(guards): wrapUntrusted(output, 'tool') + checkInjection on it (which taints the turn).
 */
export function toolOutputForModel(output: {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  status: string;
}): string {
  return JSON.stringify({ toolOutput: output });
}

/**
 * The tools offered to the model this step.
 * TODO(guards): exfiltrationDecision per tool (withhold tools with egress once the turn is tainted).
 */
export function toolsToOffer(tools: OfferedTool[]): OfferedTool[] {
  return tools;
}

/**
 * Every reply, before it is stored, returned or posted: the workspace's vault secrets and the
 * common token shapes are removed (real, today). When redaction cannot run (vault unusable)
 * the reply is dropped, never sent unredacted.
 * TODO(guards): scanSecrets + filterReply (mass mentions, raw HTML / images to unknown hosts,
 * internal markers).
 */
export async function replyForUser(text: string, redactor: WorkspaceRedactor): Promise<string> {
  const redacted = await redactor.redact(text);
  return redacted.ok ? redacted.value : 'The reply could not be checked for secrets, so it was withheld.';
}
