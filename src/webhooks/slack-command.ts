import { z } from 'zod';
import type { InboundMessage, InboundTarget } from './inbound';
import { MAX_INBOUND_TEXT_CHARS, MAX_PLATFORM_ID_CHARS } from './inbound';
import { checkSlackResponseUrl } from './replies/destinations';

const SlackId = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/)
  .max(MAX_PLATFORM_ID_CHARS);

/** The fields of a slash command Portcullis reads ("Enabling interactivity with Slash commands"). */
const SlashCommand = z.object({
  command: z.string().regex(/^\/[^\s/]{1,64}$/u),
  text: z.string().max(MAX_INBOUND_TEXT_CHARS),
  team_id: SlackId,
  channel_id: SlackId,
  user_id: SlackId,
  user_name: z.string().max(MAX_PLATFORM_ID_CHARS).optional(),
  /** Unique per invocation: the dedupe key (Slack does not retry commands; this catches a replay). */
  trigger_id: SlackId,
  response_url: z.string().max(2048),
});

export type SlackFormParsed =
  | { kind: 'command'; eventKey: string; message: InboundMessage }
  /** A verified form Portcullis does not act on (ssl_check, interactivity payloads): acknowledged only. */
  | { kind: 'ignored' }
  /** Verified, well-formed, but its response_url is not a Slack host: refused and audited. */
  | { kind: 'foreign-response-url' }
  | { kind: 'invalid' };

/**
 * Parses a verified application/x-www-form-urlencoded body (WHATWG form decoding, as Slack
 * encodes it). `now` (epoch ms) stamps the response_url's 30-minute life. Precedence (same
 * numbers in docs/webhooks.md):
 *  1. a field given twice                                  → invalid (two parsers picking
 *     different copies is how a checked value and a used value come apart)
 *  2. ssl_check or an interactivity `payload`              → ignored (acknowledged only)
 *  3. the slash command's fields present and in range      else invalid
 *  4. response_url passes checkSlackResponseUrl            else foreign-response-url
 *  5. otherwise a command, handed off, answered through its response_url.
 */
export function parseSlackForm(body: string, target: InboundTarget, now: number): SlackFormParsed {
  // 1
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (fields.has(name)) return { kind: 'invalid' };
    fields.set(name, value);
  }
  // 2
  if (fields.has('ssl_check') || fields.has('payload')) return { kind: 'ignored' };
  // 3
  const parsed = SlashCommand.safeParse(Object.fromEntries(fields));
  if (!parsed.success) return { kind: 'invalid' };
  const command = parsed.data;
  // 4
  const destination = checkSlackResponseUrl(command.response_url);
  if (!destination.ok) return { kind: 'foreign-response-url' };
  // 5
  const text = command.text.trim() === '' ? command.command : command.text;
  return {
    kind: 'command',
    eventKey: `command:${command.trigger_id}`,
    message: {
      platform: 'slack',
      ...target,
      // The answer is ephemeral (only the caller sees it), so the conversation is the
      // caller's own: another member's command in the channel never sees this context.
      conversationKey: `slack:${command.team_id}:${command.channel_id}:user:${command.user_id}`,
      sender: command.user_name ? { id: command.user_id, name: command.user_name } : { id: command.user_id },
      text,
      replyHandle: { platform: 'slack', responseUrl: destination.url, receivedAt: now },
    },
  };
}
