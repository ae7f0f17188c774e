import type { Env } from '../env';
import type { LiveEvent } from './live-event';

export type EventBindings = Pick<Env, 'EVENT_HUB'>;

/**
 * Hands `event` to its workspace's EventHub, which fans it out to that workspace's live
 * connections. Best effort by design: a live view is a convenience, the audit log and the
 * REST routes are the record, so a failure here is logged and never reaches the caller (a
 * tool call must not fail because nobody could be told about it).
 */
export async function publishEvent(env: EventBindings, event: LiveEvent): Promise<void> {
  await publishEvents(env, [event]);
}

/**
 * Several events of one workspace in one call to its hub, in order. Resolves to how many
 * connections the hub holds (0: nobody is listening), or null when the hub could not be
 * reached (logged, as above).
 */
export async function publishEvents(env: EventBindings, events: readonly LiveEvent[]): Promise<number | null> {
  const [first] = events;
  if (!first) return null;
  try {
    return await env.EVENT_HUB.getByName(first.workspaceId).publish(events);
  } catch (error) {
    console.error('events: publish failed', {
      type: first.type,
      workspaceId: first.workspaceId,
      count: events.length,
      error: String(error),
    });
    return null;
  }
}
