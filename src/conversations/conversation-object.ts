import { DurableObject } from 'cloudflare:workers';
import type { Clock } from '../auth';
import type { Env } from '../env';
import { keyringFor, openEnvelope, sealEnvelope, type Keyring } from '../vault';
import { settlePausedTurn } from './approvals';
import { CHANNEL_QUEUE_TABLE, dropJob, headJob, markStarted, noteLease, openJob, pushJob, queueLength } from './channel-queue';
import { INTERRUPTED_REPLY, reportInterruptedTurn, runChannelTurn } from './channel-turn';
import { replyOnChannel } from './channel-reply';
import { LEASE_GRACE_MS, LeaseQueue } from './lease-queue';
import { META_TABLE, objectMeta } from './object-meta';
import { SETTLE_RETRY_MS, unansweredToolResults, type ResumeRun } from './resume-run';
import { countNotUnder, resealRows, type SealedRowsRotation } from './sealed-rows';
import { setConversationVaultKey } from './store';
import { appendToTranscript, conversationRef, MESSAGES_TABLE, readTranscript } from './transcript-store';
import { createDb } from '../db';
import type { RuntimeDeps } from './turn';
import type { ChannelJob, ConversationIdentity, ConversationPort, PausedTurn, StoredMessage } from './types';

export { LEASE_GRACE_MS };

export type AcquireResult =
  | { ok: true; token: string; messages: StoredMessage[] }
  | { ok: false; reason: 'busy' }
  | { ok: false; reason: 'paused'; approvalId: string; expiresAt: number };

export type ResumeResult = { ok: true; token: string; messages: StoredMessage[]; paused: PausedTurn } | { ok: false };

/** What the GET view says the conversation is doing (docs/agents.md "Entry points"). */
export type ConversationStatus = 'idle' | 'pending_approval' | 'running';

/** What the object's own turns run with: its bindings, its clock, and the fetch that reaches the model, the platforms and the tool runner. */
export interface ConversationOutbound {
  env: Env;
  now: Clock;
  fetch: typeof fetch;
}

/**
 * Conversation: one object per conversation (named by the conversations row id). It does
 * five things and nothing else:
 * 1. orders turns: one lease at a time; a second message waits for the first turn's lease
 *    (lease-queue.ts: FIFO, in memory: a waiter holds an open call, so the object is not
 *    evicted under it), and a lease whose Worker died expires on its own;
 * 2. keeps the transcript in its SQLite storage, every entry sealed with the workspace's
 *    vault key (transcript-store.ts: the vault's own envelope, AAD bound to this conversation
 *    and entry), bounded by message count and bytes (compaction.ts);
 * 3. keeps a turn paused on an approval (sealed) across eviction; a decision wakes it (one
 *    call, `wake`) and the alarm resumes it here, or ends it once the approval expires, as D1
 *    says (settlePaused, approvals.ts): a resumed turn cut midway is reported, never run twice;
 * 4. runs channel turns: the webhook hand-off queues a message (sealed, channel-queue.ts) and
 *    returns; the alarm runs the head of the queue (channel-turn.ts: turn.ts with this object
 *    as its port, then the reply), one turn per alarm run, and sets the next alarm. The queue
 *    is in SQLite, not in memory, so a message taken survives eviction and restart; a turn cut
 *    midway is reported to the sender, never run twice (its tool calls may have run).
 * 5. re-seals its sealed rows under the active vault key when rotation asks (rotateSealed).
 * A REST turn runs in the Worker that holds the lease (turn.ts), with the app's own bindings,
 * clock and fetch. Nothing here is reachable from a client: only the Worker calls it.
 */
export class Conversation extends DurableObject<Env> {
  readonly #storage: SqlStorage;
  /** False until the tables exist in this instance's storage (again after forget()). */
  #schemaReady = false;
  readonly #metaStore = objectMeta(() => this.#sql);
  readonly #leases = new LeaseQueue(this.#metaStore);
  /** The channel turn running now, if any (one at a time; a second caller joins it). */
  #running: Promise<boolean> | null = null;
  /** The paused turn being settled (resumed or ended) now, if any; a second caller joins it. */
  #settling: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#storage = ctx.storage.sql;
  }

  /** The object's SQLite, its tables made on first use (and again after forget(), which drops them). */
  get #sql(): SqlStorage {
    if (!this.#schemaReady) {
      this.#storage.exec(META_TABLE);
      this.#storage.exec(MESSAGES_TABLE);
      this.#storage.exec(CHANNEL_QUEUE_TABLE);
      this.#schemaReady = true;
    }
    return this.#storage;
  }

  /** The bindings, clock and fetch of the object's own turns; the Workers tests' entry (test/workers/main.ts) scripts them. */
  protected outbound(): ConversationOutbound {
    return { env: this.env, now: Date.now, fetch: (input, init) => fetch(input, init) };
  }

  /** keyringFor caches per VAULT_KEYS value, so a rotated secret is picked up by the next call. */
  async #ring(): Promise<Keyring> {
    const { env } = this.outbound();
    const ring = await keyringFor(env.VAULT_KEYS);
    if (!ring.ok) throw new Error(`vault: ${ring.problem.kind}`);
    await this.#noteKeyChange(env, ring.value.activeKeyId);
    return ring.value;
  }

  /**
   * Vault rotation confirmed every sealed row under one key (meta `vault-key`, and the
   * conversations row in D1). This object now seals under another one — a newer keyring, or
   * an instance still on an older one while the new keyring rolls out — so the confirmation
   * no longer holds: D1 is told first, and the next rotation call visits this object again.
   */
  async #noteKeyChange(env: Env, activeKeyId: string): Promise<void> {
    const confirmed = this.#meta('vault-key');
    if (confirmed === null || confirmed === activeKeyId) return;
    const identity = this.#identity();
    if (identity !== null) await setConversationVaultKey(createDb(env.DB), identity.conversationId, null);
    this.#setMeta('vault-key', null);
  }

  #meta(key: string): string | null {
    return this.#metaStore.get(key);
  }

  #setMeta(key: string, value: string | null): void {
    this.#metaStore.set(key, value);
  }

  /** The first caller names the conversation; any later caller must name the same one (defence in depth: ids are random). */
  #bind(identity: ConversationIdentity): void {
    const stored = this.#meta('identity');
    const wanted = JSON.stringify([identity.workspaceId, identity.agentId, identity.conversationId]);
    if (stored === null) this.#setMeta('identity', wanted);
    else if (stored !== wanted) throw new Error('conversation: identity mismatch');
  }

  #identity(): ConversationIdentity | null {
    const stored = this.#meta('identity');
    if (stored === null) return null;
    const [workspaceId, agentId, conversationId] = JSON.parse(stored) as [string, string, string];
    return { workspaceId, agentId, conversationId };
  }

  /** The transcript (sealed again under the active key where it was not), and the paused turn's state likewise. */
  async #messages(identity: ConversationIdentity): Promise<StoredMessage[]> {
    const ring = await this.#ring();
    const messages = await readTranscript(this.#sql, ring, identity);
    await this.#resealPaused(identity, ring);
    return messages;
  }

  /** The paused turn's state, like the transcript: sealed again under the active key when read under an older one. */
  async #resealPaused(identity: ConversationIdentity, ring: Keyring): Promise<void> {
    const sealed = this.#meta('paused');
    if (sealed === null) return;
    const ref = conversationRef(identity, 'paused');
    const opened = await openEnvelope(ring, ref, sealed);
    if (!opened.ok || opened.value.keyId === ring.activeKeyId) return;
    const envelope = await sealEnvelope(ring, ref, opened.value.plaintext);
    if (this.#meta('paused') === sealed) this.#setMeta('paused', envelope);
  }

  /**
   * Starts a turn: waits up to `waitMs` for the previous turn, then holds the lease for
   * `leaseMs` (+ grace). A paused turn is not waited for: the caller decides (turn.ts).
   */
  async acquire(identity: ConversationIdentity, waitMs: number, leaseMs: number): Promise<AcquireResult> {
    this.#bind(identity);
    if (!(await this.#leases.waitForFree(waitMs))) return { ok: false, reason: 'busy' };
    const paused = this.#meta('paused-head');
    if (paused !== null) {
      const head = JSON.parse(paused) as { approvalId: string; expiresAt: number };
      this.#leases.wake();
      return { ok: false, reason: 'paused', ...head };
    }
    const token = this.#leases.grant(leaseMs);
    return { ok: true, token, messages: await this.#messages(identity) };
  }

  /**
   * Takes the paused turn waiting on `approvalId` (if it still is) and the lease with it, and
   * marks the resumed turn started (meta `resume-run`, with the sealed paused state kept for
   * its origin) until settlePaused sees it end: found by a fresh instance, it was cut midway.
   */
  async resume(identity: ConversationIdentity, approvalId: string, waitMs: number, leaseMs: number): Promise<ResumeResult> {
    this.#bind(identity);
    if (!(await this.#leases.waitForFree(waitMs))) return { ok: false };
    const sealed = this.#meta('paused');
    const paused = await this.#takePaused(identity, approvalId);
    if (!paused) {
      this.#leases.wake();
      return { ok: false };
    }
    const token = this.#leases.grant(leaseMs);
    const run: ResumeRun = { approvalId, startedAt: Date.now(), lease: token };
    this.#setMeta('resume-run', JSON.stringify(run));
    this.#setMeta('resume-paused', sealed);
    return { ok: true, token, messages: await this.#messages(identity), paused };
  }

  async #takePaused(identity: ConversationIdentity, approvalId: string | null): Promise<PausedTurn | null> {
    const head = this.#meta('paused-head');
    const sealed = this.#meta('paused');
    if (head === null || sealed === null) return null;
    if (approvalId !== null && (JSON.parse(head) as { approvalId: string }).approvalId !== approvalId) return null;
    this.#setMeta('paused-head', null);
    this.#setMeta('paused', null);
    this.#setMeta('paused-due', null);
    this.#setMeta('paused-woken', null);
    const opened = await openEnvelope(await this.#ring(), conversationRef(identity, 'paused'), sealed);
    return opened.ok ? (JSON.parse(opened.value.plaintext) as PausedTurn) : null;
  }

  /** Appends entries (sealed one by one), then compacts: oldest whole exchanges go first (transcript-store.ts). */
  async append(identity: ConversationIdentity, token: string, entries: StoredMessage[]): Promise<void> {
    this.#leases.require(token);
    await appendToTranscript(this.#sql, await this.#ring(), identity, entries, () => this.#leases.require(token));
  }

  /** Pauses the turn on an approval: the state is sealed, the lease freed, an alarm set for the expiry. */
  async pause(identity: ConversationIdentity, token: string, paused: PausedTurn): Promise<void> {
    this.#leases.require(token);
    const envelope = await sealEnvelope(await this.#ring(), conversationRef(identity, 'paused'), JSON.stringify(paused));
    this.#leases.require(token);
    this.#setMeta('paused', envelope);
    this.#setMeta('paused-head', JSON.stringify({ approvalId: paused.approvalId, expiresAt: paused.expiresAt }));
    this.#leases.drop();
    // Real time: the approval's own expiry is checked again against D1 when the alarm runs (approvals.ts).
    this.#setMeta('paused-due', String(Math.max(Date.now(), paused.expiresAt) + 1000));
    await this.#schedule();
    this.#leases.wake();
  }

  release(token: string): void {
    this.#leases.release(token);
  }

  /** The decrypted transcript, for the redacted GET view. */
  async transcript(identity: ConversationIdentity): Promise<{
    messages: StoredMessage[];
    paused: { approvalId: string; expiresAt: number } | null;
    status: ConversationStatus;
  }> {
    this.#bind(identity);
    const head = this.#meta('paused-head');
    // Running: a turn holds the lease, a decided approval's turn is about to resume or resuming, or channel messages wait.
    const running =
      this.#leases.current() !== null ||
      this.#meta('resume-run') !== null ||
      (head !== null && this.#meta('paused-woken') !== null) ||
      queueLength(this.#sql) > 0;
    return {
      messages: await this.#messages(identity),
      paused: head ? (JSON.parse(head) as { approvalId: string; expiresAt: number }) : null,
      status: running ? 'running' : head !== null ? 'pending_approval' : 'idle',
    };
  }

  /**
   * An approval was decided (approvals.ts resumeOnDecision): if this conversation's paused
   * turn waits on it, its alarm is set to now and the call returns; the alarm resumes the
   * turn here (settlePaused). Any other approval id is ignored. The wake carries no decision:
   * settlePaused reads it from D1, so a replayed or forged wake runs nothing.
   */
  async wake(identity: ConversationIdentity, approvalId: string): Promise<boolean> {
    this.#bind(identity);
    const head = this.#meta('paused-head');
    if (head === null || (JSON.parse(head) as { approvalId: string }).approvalId !== approvalId) return false;
    this.#setMeta('paused-due', String(Date.now()));
    this.#setMeta('paused-woken', '1');
    await this.#schedule();
    return true;
  }

  /**
   * Settles the paused turn if it is due (decided, or past its approval's expiry; D1 says
   * which): approvals.ts settlePausedTurn resumes or ends it as D1's decision says, inside this object, with the
   * object's own bindings, clock and fetch. The alarm calls it; a caller while it runs joins
   * that run. Like a channel turn, a resumed turn is marked started (resume(): meta
   * `resume-run`, with a sealed copy of the paused state for its origin) until it ends: one
   * found started here was cut midway by an eviction or restart and is not run again (its tool
   * calls may have run): its lease is freed and its sender told.
   */
  settlePaused(): Promise<void> {
    this.#settling ??= this.#settlePaused().finally(() => (this.#settling = null));
    return this.#settling;
  }

  async #settlePaused(): Promise<void> {
    const identity = this.#identity();
    if (identity === null) return;
    const outbound = this.outbound();
    if (this.#meta('resume-run') !== null) await this.#reportInterruptedResume(identity, outbound);
    const head = this.#meta('paused-head');
    // D1 says whether it is due (decided, or past its expiry); a pending approval answers when to look again.
    if (head === null) return;
    const { approvalId } = JSON.parse(head) as { approvalId: string };
    try {
      const retryAt = await settlePausedTurn(identity, approvalId, this.#portFor(null), outbound);
      if (retryAt !== null) {
        this.#setMeta('paused-due', String(retryAt));
        this.#setMeta('paused-woken', null);
      } else if (this.#meta('paused-head') === head) {
        // Settled, yet the same turn still waits (its agent is gone, or another turn held the lease too long): later, not in a hot loop.
        this.#setMeta('paused-due', String(Date.now() + SETTLE_RETRY_MS));
      }
    } catch (error) {
      // Not retried once taken: a resumed turn that failed midway may have run tool calls.
      console.error(
        JSON.stringify({ level: 'error', event: 'conversation.resume.failed', error: error instanceof Error ? error.name : 'unknown' }),
      );
      if (this.#meta('paused-head') !== null) this.#setMeta('paused-due', String(Date.now() + SETTLE_RETRY_MS));
    } finally {
      this.#setMeta('resume-run', null);
      this.#setMeta('resume-paused', null);
    }
  }

  /** A resumed turn cut midway (its instance is gone): its lease is freed and its sender told, in the transcript or on the channel. */
  async #reportInterruptedResume(identity: ConversationIdentity, outbound: ConversationOutbound): Promise<void> {
    const run = JSON.parse(this.#meta('resume-run') ?? '{}') as ResumeRun;
    const sealed = this.#meta('resume-paused');
    this.#setMeta('resume-run', null);
    this.#setMeta('resume-paused', null);
    if (run.lease !== null) this.release(run.lease);
    if (sealed === null) return;
    const opened = await openEnvelope(await this.#ring(), conversationRef(identity, 'paused'), sealed);
    if (!opened.ok) return;
    const { origin } = JSON.parse(opened.value.plaintext) as PausedTurn;
    const runtime: RuntimeDeps = { ...outbound, requestId: `resume-${run.approvalId}`, port: this.#portFor(null) };
    await this.#closeCutTurn(identity);
    if (origin.kind === 'channel') await replyOnChannel(runtime, identity.workspaceId, origin, INTERRUPTED_REPLY);
  }

  /**
   * The transcript of a turn cut midway (its lease already freed) is closed: every tool call
   * it left without a result gets one, then the interrupted reply, so the history the next
   * turn gives the model stays valid (providers refuse a tool call with no result after it).
   */
  async #closeCutTurn(identity: ConversationIdentity): Promise<void> {
    const lease = await this.acquire(identity, 0, LEASE_GRACE_MS);
    if (!lease.ok) return;
    try {
      const unanswered = unansweredToolResults(lease.messages);
      await this.append(identity, lease.token, [...unanswered, { role: 'assistant', content: INTERRUPTED_REPLY }]);
    } finally {
      this.release(lease.token);
    }
  }

  /**
   * Vault rotation (rotation.ts, one call per object per rotation batch): re-seals every
   * sealed row (transcript, queued channel jobs, paused turn) not under `activeKeyId`, here
   * inside the object, so a turn appending meanwhile is ordered with it and loses nothing.
   * An object whose own keyring has another active key (a keyring still rolling out) changes
   * nothing and answers what it holds not under `activeKeyId`. Once nothing is left, the
   * confirmation is written here (meta `vault-key`, then D1) before answering, so a later
   * instance sealing under another key always undoes it after (#noteKeyChange).
   */
  async rotateSealed(identity: ConversationIdentity, activeKeyId: string): Promise<SealedRowsRotation> {
    const none = { resealed: 0, unreadable: 0, remaining: 0 };
    const { env } = this.outbound();
    const ring = await this.#ring();
    if (ring.activeKeyId !== activeKeyId) return { ...none, remaining: countNotUnder(this.#sql, activeKeyId) };
    // A registered conversation whose object was never used holds nothing sealed: it is bound
    // and confirmed like any other (below), so it is not visited on every rotation call, and a
    // first seal under another key later undoes the confirmation as for any object. (A call
    // that lands between a conversation's forget() and its row's delete leaves that object
    // its identity and key id, nothing sealed; the registry no longer names it.)
    this.#bind(identity);
    const done = await resealRows(this.#sql, ring, identity);
    if (done.remaining === 0) {
      this.#setMeta('vault-key', activeKeyId);
      await setConversationVaultKey(createDb(env.DB), identity.conversationId, activeKeyId);
    }
    return done;
  }

  /** Deletes everything this conversation stored. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.#schemaReady = false;
  }

  /** Queues a channel message (sealed) and sets the alarm that runs it; false when the queue is full. */
  async enqueueChannelTurn(identity: ConversationIdentity, job: ChannelJob): Promise<boolean> {
    this.#bind(identity);
    if (!(await pushJob(this.#sql, await this.#ring(), identity, job))) return false;
    await this.#schedule();
    return true;
  }

  /**
   * Runs the head of the channel queue (the alarm calls it; a caller while a turn runs joins
   * that turn). True when more messages wait.
   */
  runNextChannelTurn(): Promise<boolean> {
    this.#running ??= this.#runHead().finally(() => (this.#running = null));
    return this.#running;
  }

  async #runHead(): Promise<boolean> {
    const identity = this.#identity();
    const head = headJob(this.#sql);
    if (identity === null || head === null) return false;
    const runtime: RuntimeDeps = {
      ...this.outbound(),
      requestId: `hook-${identity.conversationId}-${head.seq}`,
      port: this.#portFor(head.seq),
    };
    try {
      const job = await openJob(await this.#ring(), identity, head);
      if (job !== null && head.startedAt !== null) {
        // Started by an instance that is gone: its lease died with it.
        // Only a turn that took the lease can have written to the transcript.
        if (head.lease !== null) {
          this.release(head.lease);
          await this.#closeCutTurn(identity);
        }
        await reportInterruptedTurn(runtime, identity, job);
      } else if (job !== null) {
        markStarted(this.#sql, head.seq, Date.now());
        await runChannelTurn(runtime, identity, job);
      }
    } catch (error) {
      // Dropped, not retried: a turn that failed midway may have run tool calls.
      console.error(
        JSON.stringify({ level: 'error', event: 'conversation.turn.failed', error: error instanceof Error ? error.name : 'unknown' }),
      );
    } finally {
      dropJob(this.#sql, head.seq);
    }
    return queueLength(this.#sql) > 0;
  }

  /**
   * This object as a turn's port. For a channel turn (`seq` of its queued job) the lease it
   * takes is noted on the job, so a restart can free it; a resumed turn (null) needs no note:
   * resume() itself marks the run started.
   */
  #portFor(seq: number | null): ConversationPort {
    return {
      acquire: async (identity, waitMs, leaseMs) => {
        const lease = await this.acquire(identity, waitMs, leaseMs);
        if (lease.ok && seq !== null) noteLease(this.#sql, seq, lease.token);
        return lease;
      },
      resume: (identity, approvalId, waitMs, leaseMs) => this.resume(identity, approvalId, waitMs, leaseMs),
      append: (identity, token, entries) => this.append(identity, token, entries),
      pause: (identity, token, paused) => this.pause(identity, token, paused),
      release: (token) => this.release(token),
    };
  }

  /** One alarm for two deadlines: a queued message (now) and a paused turn's approval expiry. */
  async #schedule(): Promise<void> {
    const due: number[] = [];
    if (queueLength(this.#sql) > 0 || this.#meta('resume-run') !== null) due.push(Date.now());
    const pausedDue = this.#meta('paused-due');
    if (pausedDue !== null && this.#meta('paused-head') !== null) due.push(Number(pausedDue));
    if (due.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.min(...due));
  }

  /**
   * 1. the paused turn, once due (woken by its decision, or its approval's expiry):
   *    settlePaused resumes or ends it as D1 says; a resumed turn cut by a restart is reported;
   * 2. the head of the channel queue (a message queued behind a paused turn runs after it);
   * 3. the next alarm, for what is left.
   */
  override async alarm(): Promise<void> {
    await this.settlePaused();
    await this.runNextChannelTurn();
    await this.#schedule();
  }
}
