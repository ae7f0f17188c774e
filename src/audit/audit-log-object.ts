import { DurableObject } from 'cloudflare:workers';
import { auditEvents, createDb } from '../db';
import type { Env } from '../env';
import { publishEvents, type LiveEvent } from '../events';
import { INSTANCE_CHAIN, type AuditEvent, type AuditInput } from './events';
import { buildEvent, readChainHead, type ChainHead } from './record';

/** Appends written in one D1 batch at most: one round trip, one transaction. */
export const MAX_APPEND_BATCH = 64;

interface PendingAppend {
  input: AuditInput;
  now: number;
  resolve: (event: AuditEvent) => void;
  reject: (error: unknown) => void;
}

/**
 * One object per audit chain (workspace). It is the only writer of its chain. Appends that
 * arrive while a write is in flight wait in a queue and are then written together (group
 * commit): the events are chained one after the other in memory, then inserted in one D1
 * batch, which is one transaction, so either all of them land in order or none does and all
 * their callers get the error. A busy chain therefore costs one D1 round trip per batch
 * instead of per event, and seq numbers still never collide: nothing else writes the chain.
 * The head is cached after the first read and re-read after any failure.
 *
 * Live view (docs/events.md): each batch is handed to the workspace's EventHub in one call,
 * or not at all while the hub has said it has no listeners (`listening` below).
 */
export class AuditLog extends DurableObject<Env> {
  #head: ChainHead | undefined;
  #pending: PendingAppend[] = [];
  #writing = false;
  /** True once the hub answered "nobody is listening"; cleared by `listening`. (Not `#`: tests read it.) */
  private hubQuiet = false;
  /** Bumped by each `listening` call, so a "nobody" answer sent before it cannot silence the hub again. */
  #listenGeneration = 0;

  async append(input: AuditInput, now: number): Promise<AuditEvent> {
    const written = new Promise<AuditEvent>((resolve, reject) => this.#pending.push({ input, now, resolve, reject }));
    if (!this.#writing) void this.#drain();
    return await written;
  }

  /**
   * Called by the EventHub before it accepts a live connection: from now on every batch is
   * published again, until the hub answers that its last listener has gone.
   */
  listening(): void {
    this.#listenGeneration++;
    this.hubQuiet = false;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) await this.#write(this.#pending.splice(0, MAX_APPEND_BATCH));
    } finally {
      this.#writing = false;
    }
  }

  async #write(batch: PendingAppend[]): Promise<void> {
    const db = createDb(this.env.DB);
    let head: ChainHead;
    try {
      head = this.#head ??= await readChainHead(db, batch[0]!.input.workspaceId);
    } catch (error) {
      this.#head = undefined;
      for (const append of batch) append.reject(error);
      return;
    }
    // Chain in memory. An input that cannot be built (say, data that cannot be serialised)
    // fails alone and takes no seq; the others go on.
    const built: { append: PendingAppend; event: AuditEvent }[] = [];
    for (const append of batch) {
      try {
        const event = await buildEvent(head, append.input, append.now);
        built.push({ append, event });
        head = { seq: event.seq, hash: event.hash };
      } catch (error) {
        append.reject(error);
      }
    }
    const [first, ...rest] = built.map(({ event }) => db.insert(auditEvents).values(event));
    if (!first) return;
    try {
      await db.batch([first, ...rest]);
    } catch (error) {
      this.#head = undefined;
      for (const { append } of built) append.reject(error);
      return;
    }
    this.#head = head;
    for (const { append, event } of built) append.resolve(event);
    this.#publish(built.map(({ event }) => event));
  }

  /** Off the append queue: the callers already have their events. */
  #publish(events: AuditEvent[]): void {
    // One chain per object: the instance chain (no workspace, no hub) is never published.
    if (this.hubQuiet || events[0]?.workspaceId === INSTANCE_CHAIN) return;
    // Kind, actor, time and position only, never `data`.
    const live: LiveEvent[] = events.map((event) => ({
      type: 'audit',
      workspaceId: event.workspaceId,
      at: event.createdAt,
      data: { id: event.id, seq: event.seq, kind: event.kind, actor: event.actor },
    }));
    const generation = this.#listenGeneration;
    this.ctx.waitUntil(
      publishEvents(this.env, live).then((listeners) => {
        if (listeners === 0 && generation === this.#listenGeneration) this.hubQuiet = true;
      }),
    );
  }
}
