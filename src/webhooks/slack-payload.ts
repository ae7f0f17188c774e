import { z } from 'zod';
import type { InboundMessage, InboundTarget } from './inbound';
import { MAX_INBOUND_TEXT_CHARS, MAX_PLATFORM_ID_CHARS } from './inbound';

const SlackId = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/)
  .max(MAX_PLATFORM_ID_CHARS);

const Envelope = z.object({ type: z.string().max(64) });

const UrlVerification = z.object({ type: z.literal('url_verification'), challenge: z.string().min(1).max(512) });

const EventCallback = z.object({
  type: z.literal('event_callback'),
  /** "A unique identifier for this specific event, globally unique across all workspaces." */
  event_id: SlackId,
  team_id: SlackId.optional(),
  event: z.object({
    type: z.string().max(64),
    subtype: z.string().max(64).optional(),
    user: SlackId.optional(),
    bot_id: z.string().max(MAX_PLATFORM_ID_CHARS).optional(),
    text: z.string().max(MAX_INBOUND_TEXT_CHARS).optional(),
    channel: SlackId.optional(),
    ts: SlackId.optional(),
    thread_ts: SlackId.optional(),
  }),
});

export type SlackParsed =
  | { kind: 'challenge'; challenge: string }
  /** An event to acknowledge and de-duplicate; `message` is null for events no agent sees. */
  | { kind: 'event'; eventKey: string; message: InboundMessage | null }
  /** Other envelope types (e.g. app_rate_limited): acknowledged, nothing else. */
  | { kind: 'ignored' }
  | { kind: 'invalid' };

const MESSAGE_EVENTS = new Set(['message', 'app_mention']);

/** Parses a verified Events API body (JSON). */
export function parseSlackEvent(json: unknown, target: InboundTarget): SlackParsed {
  const envelope = Envelope.safeParse(json);
  if (!envelope.success) return { kind: 'invalid' };
  if (envelope.data.type === 'url_verification') {
    const parsed = UrlVerification.safeParse(json);
    return parsed.success ? { kind: 'challenge', challenge: parsed.data.challenge } : { kind: 'invalid' };
  }
  if (envelope.data.type !== 'event_callback') return { kind: 'ignored' };
  const parsed = EventCallback.safeParse(json);
  if (!parsed.success) return { kind: 'invalid' };
  const { event, event_id: eventId, team_id: teamId } = parsed.data;
  // Messages from bots (our own replies included) and edits/deletions (subtypes) never reach
  // an agent: answering a bot is how two bots start talking to each other forever.
  const fromPerson = MESSAGE_EVENTS.has(event.type) && event.subtype === undefined && event.bot_id === undefined;
  // An app subscribed to both `message` and `app_mention` gets one user message as two
  // events with two event_ids but the same channel and ts: keyed on those, it is one turn.
  // Retries of either carry the same channel and ts too. Only a person's message takes that
  // key, so no edit, join or bot event can ever shadow the message it refers to.
  const eventKey = fromPerson && event.channel && event.ts ? `message:${teamId ?? '-'}:${event.channel}:${event.ts}` : `event:${eventId}`;
  if (!fromPerson || !event.user || !event.channel || !event.ts || event.text === undefined)
    return { kind: 'event', eventKey, message: null };
  const threadTs = event.thread_ts ?? event.ts;
  return {
    kind: 'event',
    eventKey,
    message: {
      platform: 'slack',
      ...target,
      conversationKey: `slack:${teamId ?? '-'}:${event.channel}:${threadTs}`,
      sender: { id: event.user },
      text: event.text,
      replyHandle: { platform: 'slack', channel: event.channel, threadTs },
    },
  };
}
