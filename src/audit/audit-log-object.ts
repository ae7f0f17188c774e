import { DurableObject } from 'cloudflare:workers';
import { auditEvents, createDb } from '../db';
import type { Env } from '../env';
import { publishEvent } from '../events';
import { INSTANCE_CHAIN, type AuditEvent, type AuditInput } from './events';
import { buildEvent, readChainHead, type ChainHead } from './record';

/**
 * One object per audit chain (workspace). It is the only writer of its chain: appends run
 * one after another through a promise queue, because a D1 call is an outgoing I/O during
 * which the runtime would otherwise deliver the next append and two events would claim the
 * same seq. The head is cached after the first read and re-read after any failure.
 */
export class AuditLog extends DurableObject<Env> {
  #head: ChainHead | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  append(input: AuditInput, now: number): Promise<AuditEvent> {
    const next = this.#queue.then(() => this.#appendNow(input, now));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #appendNow(input: AuditInput, now: number): Promise<AuditEvent> {
    const db = createDb(this.env.DB);
    try {
      this.#head ??= await readChainHead(db, input.workspaceId);
      const event = await buildEvent(this.#head, input, now);
      await db.insert(auditEvents).values(event);
      this.#head = { seq: event.seq, hash: event.hash };
      // Live view (docs/events.md): kind, actor, time and position only, never `data`; off the append queue.
      if (event.workspaceId !== INSTANCE_CHAIN)
        this.ctx.waitUntil(
          publishEvent(this.env, {
            type: 'audit',
            workspaceId: event.workspaceId,
            at: event.createdAt,
            data: { id: event.id, seq: event.seq, kind: event.kind, actor: event.actor },
          }),
        );
      return event;
    } catch (error) {
      this.#head = undefined;
      throw error;
    }
  }
}
