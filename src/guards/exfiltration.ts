/**
 * The exfiltration guard: once a turn has seen untrusted content (a channel message from
 * anyone but the operator, any tool output, a fetched page), a tool that can reach the
 * network could carry what the turn knows to whoever wrote that content. Such tools are
 * withheld from the model for the rest of the turn and refused at dispatch, or need a
 * human's approval, per the agent's `guards.exfiltration`.
 *
 * Egress (toolHasEgress), over the tool's capabilities and the manifest's
 * serverCapabilities, each parsed with src/policy's grammar (never matched by a regex):
 * 1. a capability that does not parse (an operator-only private destination, a grammar this
 *    build does not know) → egress (fail closed);
 * 2. `net:connect:…` → egress;
 * 3. `ipc:connect:…` → egress (a socket leads to a daemon outside the sandbox that may reach
 *    the network);
 * 4. anything else → no egress.
 *
 * Decision (exfiltrationDecision), first match wins:
 * 1. mode `off` → offer;
 * 2. the tool has no egress → offer;
 * 3. the turn has seen no untrusted content → offer;
 * 4. mode `approval` → needs-approval;
 * 5. otherwise → withhold (the model never sees the tool; a call naming it anyway is refused).
 */
import { parseCapability, type ManifestTool } from '../policy';
import type { GuardVerdict, ResolvedGuards } from './settings';

export type ExfiltrationDecision = 'offer' | 'withhold' | 'needs-approval';

/** Whether a tool can reach anything outside its sandbox (rules 1–4 above). */
export function toolHasEgress(tool: Pick<ManifestTool, 'capabilities'>, serverCapabilities: readonly string[]): boolean {
  for (const text of [...serverCapabilities, ...tool.capabilities]) {
    const parsed = parseCapability(text);
    if (!parsed.ok) return true;
    if (parsed.capability.kind === 'net' || parsed.capability.kind === 'ipc') return true;
  }
  return false;
}

export function exfiltrationDecision(
  guards: Pick<ResolvedGuards, 'exfiltration'>,
  turn: { tainted: boolean },
  tool: { egress: boolean },
): ExfiltrationDecision {
  if (guards.exfiltration === 'off') return 'offer';
  if (!tool.egress) return 'offer';
  if (!turn.tainted) return 'offer';
  if (guards.exfiltration === 'approval') return 'needs-approval';
  return 'withhold';
}

/** The verdict to record when a decision is not `offer` (null for `offer`: nothing happened). */
export function exfiltrationVerdict(
  guards: Pick<ResolvedGuards, 'exfiltration'>,
  decision: ExfiltrationDecision,
  tool: string,
  at: 'offer' | 'dispatch',
): GuardVerdict | null {
  if (decision === 'offer') return null;
  return {
    guard: 'exfiltration',
    mode: guards.exfiltration,
    outcome: decision === 'withhold' ? 'withheld' : 'needs-approval',
    reasons: [`egress-after-untrusted`, `tool:${tool}`, `at:${at}`],
  };
}
