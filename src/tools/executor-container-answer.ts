/**
 * What a ToolSandbox call's answer means. `containerFetch` (@cloudflare/containers 0.3.7) turns
 * every problem into a response of its own, so the status alone does not say whether the call
 * ran: a container that never started (nothing ran) and one that died mid-call (the call may
 * have run) both come back as 500. Precedence, first match wins:
 * 1. the call's deadline passed (the abort signal fired) → executor-lost: sent, no answer;
 * 2. 200 → the runner's result (parseRunnerAnswer);
 * 3. 401 → unauthenticated (the caller destroys the container and retries once);
 * 4. 403 → refused (the runner's isolation check); 409 → busy (it runs another call);
 * 5. 429 (start rate-limited) → busy; 503 (no instance available: max_instances reached or
 *    still provisioning) → no-capacity;
 * 6. 500 "Failed to start container…" → start-failed: nothing ran;
 * 7. 500 "Container suddenly disconnected…" or "Error proxying request…" → executor-lost;
 * 8. otherwise → bad-response.
 * The texts in 6 and 7 are the package's own (its containerFetch); another text falls to 8,
 * which refuses the call (503), never reports it as run.
 */
import type { ToolRunOutcome } from './executor';
import { lostRunResult, parseRunnerAnswer } from './runner-result';

export async function classifyContainerAnswer(response: Response, deadlinePassed: boolean, elapsedMs: number): Promise<ToolRunOutcome> {
  if (deadlinePassed) return { ok: true, result: lostRunResult(elapsedMs) }; // 1
  if (response.status === 200) return { ok: true, result: parseRunnerAnswer(await response.json().catch(() => null)) }; // 2
  if (response.status === 401) return { ok: false, failure: { kind: 'unauthenticated' } }; // 3
  if (response.status === 403) return { ok: false, failure: { kind: 'refused' } }; // 4
  if (response.status === 409 || response.status === 429) return { ok: false, failure: { kind: 'busy' } }; // 4, 5
  if (response.status === 503) return { ok: false, failure: { kind: 'no-capacity' } }; // 5
  if (response.status === 500) {
    const text = await response.text().catch(() => '');
    if (text.startsWith('Failed to start container')) return { ok: false, failure: { kind: 'start-failed' } }; // 6
    if (text.startsWith('Container suddenly disconnected') || text.startsWith('Error proxying request'))
      return { ok: true, result: lostRunResult(elapsedMs) }; // 7
  }
  return { ok: false, failure: { kind: 'bad-response' } }; // 8
}
