import { z } from 'zod';
import type { InboundMessage, InboundTarget } from './inbound';
import { MAX_INBOUND_TEXT_CHARS } from './inbound';

/** Telegram ids have at most 52 significant bits, so they are exact JS numbers. */
const TelegramId = z
  .number()
  .int()
  .min(-(2 ** 53 - 1))
  .max(2 ** 53 - 1);

const Message = z.object({
  message_id: TelegramId,
  message_thread_id: TelegramId.optional(),
  chat: z.object({ id: TelegramId, type: z.string().max(32) }),
  from: z
    .object({ id: TelegramId, is_bot: z.boolean(), username: z.string().max(64).optional(), first_name: z.string().max(256).optional() })
    .optional(),
  text: z.string().max(MAX_INBOUND_TEXT_CHARS).optional(),
});

const Update = z.object({
  /** Sequential per bot; "handy if you're using webhooks, since it allows you to ignore repeated updates". */
  update_id: TelegramId.nonnegative(),
  message: Message.optional(),
});

export type TelegramParsed = { kind: 'update'; eventKey: string; message: InboundMessage | null } | { kind: 'invalid' };

/** Parses a verified Update. Updates other than a person's text message are acknowledged only. */
export function parseTelegramUpdate(json: unknown, target: InboundTarget): TelegramParsed {
  const parsed = Update.safeParse(json);
  if (!parsed.success) return { kind: 'invalid' };
  const { update_id: updateId, message } = parsed.data;
  const eventKey = `update:${updateId}`;
  if (!message || message.text === undefined || !message.from || message.from.is_bot) return { kind: 'update', eventKey, message: null };
  const name = message.from.username ?? message.from.first_name;
  const thread = message.message_thread_id;
  return {
    kind: 'update',
    eventKey,
    message: {
      platform: 'telegram',
      ...target,
      conversationKey: `telegram:${message.chat.id}${thread === undefined ? '' : `:${thread}`}`,
      sender: name ? { id: String(message.from.id), name } : { id: String(message.from.id) },
      text: message.text,
      replyHandle:
        thread === undefined
          ? { platform: 'telegram', chatId: message.chat.id, replyToMessageId: message.message_id }
          : { platform: 'telegram', chatId: message.chat.id, replyToMessageId: message.message_id, messageThreadId: thread },
    },
  };
}
