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
  try {
    await env.EVENT_HUB.getByName(event.workspaceId).publish(event);
  } catch (error) {
    console.error('events: publish failed', { type: event.type, workspaceId: event.workspaceId, error: String(error) });
  }
}
