/**
 * The guards (src/guards, docs/agents.md "Guards") at their fixed points of a turn. One
 * TurnGuards per running part of a turn; every verdict is audited (recordGuardVerdicts).
 * 1. inbound user text: secrets (a pasted key is replaced before the model sees it and the
 *    user is told), then the injection check (block → the turn ends, the text never reaches
 *    the model); a channel message is untrusted: wrapped, and it taints the turn;
 * 2. the tools offered each step: a tool with egress is withheld once the turn is tainted
 *    (exfiltration `withhold`), or offered but forced through approval (`approval`);
 * 3. each dispatch: the same decision again (the turn may have been tainted within the step);
 * 4. every tool output: wrapped as untrusted, checked for injection (block → withheld from the
 *    model), and the turn is tainted;
 * 5. every reply: secrets, then the output filter (vault redaction, mass mentions, fetching
 *    HTML / images to unknown hosts, internal markers). If the vault redaction cannot run the
 *    reply is withheld, never sent unredacted.
 */
import type { Clock } from '../auth';
import type { Env } from '../env';
import {
  checkInjection,
  exfiltrationDecision,
  exfiltrationVerdict,
  filterReply,
  guardInboundSecrets,
  guardReplySecrets,
  recordGuardVerdicts,
  toolHasEgress,
  wrapUntrusted,
  type BreakerCell,
  type Classifier,
  type ExfiltrationDecision,
  type GuardVerdict,
  type ResolvedGuards,
} from '../guards';
import type { OfferedTool } from '../models';
import { manifestToolOf, type InstalledToolRow, type StoredResult } from '../tools';
import type { WorkspaceRedactor } from '../vault';
import type { ConversationIdentity } from './types';

export const INJECTION_BLOCKED_REPLY = "I can't act on this message: it looks like an attempt to override my instructions.";
export const REPLY_WITHHELD = 'The reply could not be checked for secrets, so it was withheld.';
const TOOL_OUTPUT_WITHHELD = 'Tool output withheld: it looked like an attempt to override your instructions.';
export class TurnGuards {
  readonly #withheldRecorded = new Set<string>();

  constructor(
    readonly deps: { env: Env; now: Clock },
    readonly place: ConversationIdentity,
    readonly guards: ResolvedGuards,
    readonly redactor: WorkspaceRedactor,
    /** guards.classifier as built by src/guards classifierFor (null: heuristics only); its breaker outlives the turn. */
    readonly classifier: { classify?: Classifier; breaker: BreakerCell } | null,
    /** Set once the turn has seen untrusted content (a channel message, any tool output). */
    public tainted: boolean,
  ) {}

  async #record(verdicts: GuardVerdict[]): Promise<void> {
    if (verdicts.length > 0) await recordGuardVerdicts(this.deps.env, this.place, verdicts, this.deps.now());
  }

  async #injection(text: string, source: 'channel' | 'tool'): Promise<GuardVerdict> {
    const { classify, breaker } = this.classifier ?? {};
    const checked = await checkInjection(text, this.guards, {
      ...(classify ? { classify } : {}),
      ...(breaker ? { breaker } : {}),
      source,
      now: this.deps.now(),
    });
    return checked.verdict;
  }

  /** 1. Inbound text: what the model may see, or that the turn must end. */
  async inbound(text: string, untrusted: boolean): Promise<{ blocked: true } | { blocked: false; text: string; notice: string | null }> {
    const secrets = guardInboundSecrets(text, this.guards.secrets);
    const injection = await this.#injection(secrets.text, 'channel');
    await this.#record([secrets.verdict, injection]);
    if (injection.outcome === 'blocked') return { blocked: true };
    if (untrusted) this.tainted = true;
    return { blocked: false, text: untrusted ? wrapUntrusted(secrets.text, 'channel') : secrets.text, notice: secrets.notice };
  }

  #decision(tool: InstalledToolRow): ExfiltrationDecision {
    const egress = toolHasEgress(manifestToolOf(tool), []);
    return exfiltrationDecision(this.guards, { tainted: this.tainted }, { egress });
  }

  /** 2. The tools offered this step (each withheld tool audited once per turn part). */
  async offer(tools: InstalledToolRow[]): Promise<OfferedTool[]> {
    const offered: OfferedTool[] = [];
    const verdicts: GuardVerdict[] = [];
    for (const tool of tools) {
      const decision = this.#decision(tool);
      if (decision === 'withhold') {
        if (!this.#withheldRecorded.has(tool.name)) {
          this.#withheldRecorded.add(tool.name);
          const verdict = exfiltrationVerdict(this.guards, decision, tool.name, 'offer');
          if (verdict) verdicts.push(verdict);
        }
        continue;
      }
      const entry = manifestToolOf(tool);
      offered.push({ name: tool.name, description: entry.description ?? '', inputSchema: entry.inputSchema as Record<string, unknown> });
    }
    await this.#record(verdicts);
    return offered;
  }

  /** 3. At dispatch: refuse a withheld tool, or force an approval. */
  async dispatch(tool: InstalledToolRow): Promise<ExfiltrationDecision> {
    const decision = this.#decision(tool);
    const verdict = exfiltrationVerdict(this.guards, decision, tool.name, 'dispatch');
    if (verdict) await this.#record([verdict]);
    return decision;
  }

  /** 4. A tool's output as the model sees it: wrapped, checked, and the turn is tainted. */
  async toolOutput(result: Pick<StoredResult, 'status' | 'exitCode' | 'stdout' | 'stderr' | 'truncated'>): Promise<string> {
    this.tainted = true;
    const verdict = await this.#injection(`${result.stdout}\n${result.stderr}`, 'tool');
    await this.#record([verdict]);
    const output =
      verdict.outcome === 'blocked'
        ? { status: result.status, exitCode: result.exitCode, withheld: TOOL_OUTPUT_WITHHELD }
        : { status: result.status, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, truncated: result.truncated };
    return wrapUntrusted(JSON.stringify(output), 'tool');
  }

  /** 5. Every reply. */
  async reply(text: string): Promise<string> {
    const secrets = guardReplySecrets(text, this.guards.secrets);
    let failed = false;
    const redact = async (value: string) => {
      const redacted = await this.redactor.redact(value);
      if (!redacted.ok) failed = true;
      return redacted.ok ? redacted.value : '';
    };
    const filtered = await filterReply(secrets.text, { redact, mode: this.guards.output });
    await this.#record([secrets.verdict, filtered.verdict]);
    // The vault redaction is not a mode: when it cannot run, nothing is sent.
    if (failed) return REPLY_WITHHELD;
    const redacted = await this.redactor.redact(filtered.text);
    return redacted.ok ? redacted.value : REPLY_WITHHELD;
  }
}
