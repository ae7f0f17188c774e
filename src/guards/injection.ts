/**
 * The prompt-injection check on inbound text and tool output. Heuristics always run when the
 * guard is on; an optional second model classifies what the heuristics let through.
 *
 * checkInjection, first match wins (docs/agents.md "Guards", injection):
 * 1. mode `off` → pass (nothing is looked at);
 * 2. a heuristic rule matches (injection-rules.ts rules 1–5 on the text; 6 marker-forgery:
 *    a wrapper marker look-alike, wrap.ts; 7 encoded-instructions: a base64 blob that
 *    decodes to text matching rules 1–6; 8 hidden-tag-characters: Unicode tag characters,
 *    whose ASCII reading is also checked by rules 1–5) → `block`: blocked, `warn`: warned;
 * 3. no classifier configured → pass;
 * 4. a classifier is configured but the runtime could not build it (no `classify`), or its
 *    circuit breaker is open → the classifier failed (rule 6);
 * 5. the classifier answers within CLASSIFIER_TIMEOUT_MS: injection → blocked / warned;
 *    not injection → pass;
 * 6. the classifier failed (error, timeout, unavailable) → `block` fails closed: blocked;
 *    `warn` records: warned.
 *
 * The circuit breaker (pure: state in, state out; breakers.ts keeps one per classifier and
 * workspace for the isolate, across turns; the probe is written before the call, so two
 * turns at once do not both probe):
 * 1. fewer than BREAKER_THRESHOLD consecutive failures → closed: call;
 * 2. before `openUntil` → open: do not call (counts as a failure of the classifier, rule 6
 *    above, without touching the state);
 * 3. after `openUntil`, while a probe is out (since less than CLASSIFIER_TIMEOUT_MS) → do not call;
 * 4. otherwise → half-open: this call is the probe;
 * a success closes the breaker; a failure opens it for BREAKER_OPEN_MS, doubled for each
 * further consecutive failure, at most BREAKER_MAX_OPEN_MS.
 */
import { decodeBase64Unpadded, decodeBase64Url } from '../lib';
import { matchRules, plainCopy } from './injection-rules';
import type { GuardVerdict, ResolvedGuards } from './settings';
import { foldForDetection } from './skeleton';
import { MARKER_LOOKALIKE, type UntrustedSource } from './wrap';

/**
 * A second model's opinion. It must honour `signal`; the check also stops waiting at the
 * timeout. A ClassifierFailure says why it failed (recorded as `classifier:<kind>`).
 */
export type Classifier = (text: string, signal: AbortSignal, source: UntrustedSource) => Promise<{ injection: boolean }>;

/** Why a classifier call failed, as a rule-id-shaped tag (a model failure kind, `malformed-answer`). */
export class ClassifierFailure extends Error {
  constructor(readonly kind: string) {
    super(`classifier failed: ${kind}`);
    this.name = 'ClassifierFailure';
  }
}

/** Where one classifier's breaker state lives between calls (breakers.ts: the isolate's registry). */
export interface BreakerCell {
  read(): BreakerState;
  write(next: BreakerState): void;
}

export interface BreakerState {
  /** Consecutive failures. */
  failures: number;
  /** Epoch ms until which the classifier is not called (0: closed). */
  openUntil: number;
  /** Epoch ms when the half-open probe started (0: none out). */
  probeAt: number;
}

export const CLOSED_BREAKER: Readonly<BreakerState> = Object.freeze({ failures: 0, openUntil: 0, probeAt: 0 });
export const BREAKER_THRESHOLD = 3;
export const BREAKER_OPEN_MS = 30_000;
export const BREAKER_MAX_OPEN_MS = 10 * 60_000;
export const CLASSIFIER_TIMEOUT_MS = 8_000;
/** What the classifier sees of a long text: its head and its tail (an injection can sit at either end). */
export const CLASSIFIER_MAX_CHARS = 32_000;
const BASE64_BLOB = /[A-Za-z0-9+/_-]{24,}={0,2}/g;
const MAX_BLOBS = 32;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const TAG_CHARACTERS = /[\u{e0000}-\u{e007f}]/gu;

export function breakerAdmit(state: BreakerState, now: number): { call: boolean; state: BreakerState } {
  if (state.failures < BREAKER_THRESHOLD) return { call: true, state };
  if (now < state.openUntil) return { call: false, state };
  if (state.probeAt > 0 && now < state.probeAt + CLASSIFIER_TIMEOUT_MS) return { call: false, state };
  return { call: true, state: { ...state, probeAt: now } };
}

export function breakerRecord(state: BreakerState, ok: boolean, now: number): BreakerState {
  if (ok) return { ...CLOSED_BREAKER };
  const failures = state.failures + 1;
  if (failures < BREAKER_THRESHOLD) return { failures, openUntil: 0, probeAt: 0 };
  const openMs = Math.min(BREAKER_OPEN_MS * 2 ** (failures - BREAKER_THRESHOLD), BREAKER_MAX_OPEN_MS);
  return { failures, openUntil: now + openMs, probeAt: 0 };
}

/** A blob cut out of running text: padding dropped, up to 3 trailing characters trimmed until it decodes. */
function decodeLoose(blob: string): Uint8Array | null {
  const bare = blob.replace(/=+$/, '');
  const urlSafe = /[-_]/.test(bare);
  for (let trim = 0; trim < 4 && bare.length - trim >= 16; trim++) {
    const candidate = bare.slice(0, bare.length - trim);
    const bytes = urlSafe ? decodeBase64Url(candidate) : decodeBase64Unpadded(candidate);
    if (bytes) return bytes;
  }
  return null;
}

function decodedBlobs(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(BASE64_BLOB)) {
    if (out.length >= MAX_BLOBS) break;
    const blob = match[0];
    const bytes = decodeLoose(blob);
    if (!bytes) continue;
    let decoded: string;
    try {
      decoded = STRICT_UTF8.decode(bytes); // binary is not text: it cannot instruct anyone
    } catch {
      continue;
    }
    // Text, not binary: mostly printable.
    const printable = decoded.replace(/[^\p{L}\p{N}\p{P}\p{S}\p{Zs}\n\t]/gu, '').length;
    if (decoded.length > 0 && printable / decoded.length > 0.9) out.push(decoded);
  }
  return out;
}

function ruleHits(text: string): string[] {
  const folded = foldForDetection(text);
  const hits = matchRules(plainCopy(text), folded.replace(/\s+/g, ' '));
  if (new RegExp(MARKER_LOOKALIKE.source).test(folded)) hits.push('marker-forgery');
  return hits;
}

/** Heuristic rules 2 (1–8) on one text: the rule ids that match, in order, each once. */
export function injectionHeuristics(text: string): string[] {
  const hits = new Set(ruleHits(text));
  const tags = [...text.matchAll(TAG_CHARACTERS)];
  if (tags.length >= 4) {
    hits.add('hidden-tag-characters');
    const hidden = tags.map((tag) => String.fromCodePoint((tag[0].codePointAt(0) as number) - 0xe0000)).join('');
    for (const hit of matchRules(plainCopy(hidden), foldForDetection(hidden))) hits.add(hit);
  }
  for (const decoded of decodedBlobs(text)) if (ruleHits(decoded).length > 0) hits.add('encoded-instructions');
  return [...hits];
}

function classifierInput(text: string): string {
  if (text.length <= CLASSIFIER_MAX_CHARS) return text;
  const half = CLASSIFIER_MAX_CHARS / 2;
  return `${text.slice(0, half)}\n…\n${text.slice(-half)}`;
}

type ClassifierResult = { kind: 'answer'; injection: boolean } | { kind: 'failed'; reasons: string[] };

async function callClassifier(classify: Classifier, text: string, source: UntrustedSource, timeoutMs: number): Promise<ClassifierResult> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<ClassifierResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ kind: 'failed', reasons: ['classifier-timeout'] });
    }, timeoutMs);
  });
  const answer = classify(classifierInput(text), controller.signal, source).then(
    (result): ClassifierResult =>
      result && typeof result.injection === 'boolean'
        ? { kind: 'answer', injection: result.injection }
        : { kind: 'failed', reasons: ['classifier-failed'] },
    (error: unknown): ClassifierResult => ({
      kind: 'failed',
      reasons: ['classifier-failed', ...(error instanceof ClassifierFailure ? [`classifier:${error.kind}`] : [])],
    }),
  );
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface InjectionDeps {
  /** Built by the runtime from `guards.classifier`; absent when it could not be built. */
  classify?: Classifier;
  /** The classifier's breaker (a fresh closed one, remembered nowhere, when absent). */
  breaker?: BreakerCell;
  /** What the text is, for the classifier's wrapper (default `tool`). */
  source?: UntrustedSource;
  now: number;
  /** Tests only shorten it; the runtime uses the default. */
  timeoutMs?: number;
}

/** A breaker cell that remembers nothing beyond itself (one check, or a test). */
export function breakerCell(initial: BreakerState = CLOSED_BREAKER): BreakerCell {
  let state = { ...initial };
  return { read: () => state, write: (next) => (state = next) };
}

export async function checkInjection(
  text: string,
  guards: Pick<ResolvedGuards, 'injection' | 'classifier'>,
  deps: InjectionDeps,
): Promise<{ verdict: GuardVerdict }> {
  const mode = guards.injection;
  const verdict = (outcome: GuardVerdict['outcome'], reasons: string[]): GuardVerdict => ({ guard: 'injection', mode, outcome, reasons });
  const caught = mode === 'block' ? 'blocked' : 'warned';
  // 1–3
  if (mode === 'off') return { verdict: verdict('pass', []) };
  const hits = injectionHeuristics(text);
  if (hits.length > 0) return { verdict: verdict(caught, hits) };
  if (!guards.classifier) return { verdict: verdict('pass', []) };
  // 4
  if (!deps.classify) return { verdict: verdict(caught, ['classifier-unavailable']) };
  const breaker = deps.breaker ?? breakerCell();
  const admitted = breakerAdmit(breaker.read(), deps.now);
  breaker.write(admitted.state);
  if (!admitted.call) return { verdict: verdict(caught, ['classifier-circuit-open']) };
  // 5–6
  const result = await callClassifier(deps.classify, text, deps.source ?? 'tool', deps.timeoutMs ?? CLASSIFIER_TIMEOUT_MS);
  breaker.write(breakerRecord(breaker.read(), result.kind === 'answer', deps.now));
  if (result.kind === 'failed') return { verdict: verdict(caught, result.reasons) };
  return { verdict: result.injection ? verdict(caught, ['classifier']) : verdict('pass', []) };
}
