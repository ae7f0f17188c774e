import { z } from 'zod';
import type { InboundMessage, InboundTarget } from './inbound';
import { MAX_INBOUND_TEXT_CHARS } from './inbound';

/** Interaction Type (Discord "Receiving and Responding"). */
export const DiscordInteractionType = {
  PING: 1,
  APPLICATION_COMMAND: 2,
  MESSAGE_COMPONENT: 3,
  APPLICATION_COMMAND_AUTOCOMPLETE: 4,
  MODAL_SUBMIT: 5,
} as const;

/** Interaction Callback Type values Portcullis answers with. */
export const DiscordCallbackType = { PONG: 1, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: 5, AUTOCOMPLETE_RESULT: 8 } as const;

const Snowflake = z.string().regex(/^[0-9]{1,20}$/);

const DiscordUser = z.object({
  id: Snowflake,
  username: z.string().max(100).optional(),
  global_name: z.string().max(100).nullish(),
});

interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean | undefined;
  options?: CommandOption[] | undefined;
}

const CommandOption: z.ZodType<CommandOption> = z.object({
  name: z.string().max(100),
  type: z.number().int(),
  value: z.union([z.string().max(MAX_INBOUND_TEXT_CHARS), z.number(), z.boolean()]).optional(),
  options: z.lazy(() => z.array(CommandOption).max(25)).optional(),
});

const Interaction = z.object({
  id: Snowflake,
  application_id: Snowflake.optional(),
  type: z.number().int(),
  token: z.string().min(1).max(1000).optional(),
  channel_id: Snowflake.optional(),
  guild_id: Snowflake.optional(),
  member: z.object({ user: DiscordUser }).optional(),
  user: DiscordUser.optional(),
  data: z
    .object({
      name: z.string().max(100).optional(),
      custom_id: z.string().max(100).optional(),
      values: z.array(z.string().max(100)).max(25).optional(),
      options: z.array(CommandOption).max(25).optional(),
      components: z
        .array(
          z.object({
            components: z
              .array(z.object({ value: z.string().max(4000).optional() }))
              .max(5)
              .optional(),
          }),
        )
        .max(5)
        .optional(),
    })
    .optional(),
});

export type DiscordParsed =
  { kind: 'ping' } | { kind: 'autocomplete' } | { kind: 'interaction'; eventKey: string; message: InboundMessage } | { kind: 'invalid' };

function optionValues(options: CommandOption[] | undefined): string[] {
  return (options ?? []).flatMap((option) => [
    ...(option.value === undefined ? [] : [String(option.value)]),
    ...optionValues(option.options),
  ]);
}

/** A command's text is its option values (`/ask question:hi` → "hi"), or `/name` without any. */
function interactionText(interaction: z.infer<typeof Interaction>): string {
  const data = interaction.data ?? {};
  if (interaction.type === DiscordInteractionType.APPLICATION_COMMAND) {
    const values = optionValues(data.options);
    return values.length > 0 ? values.join(' ') : `/${data.name ?? ''}`;
  }
  if (interaction.type === DiscordInteractionType.MODAL_SUBMIT) {
    return (data.components ?? []).flatMap((row) => (row.components ?? []).map((input) => input.value ?? '')).join('\n');
  }
  return [data.custom_id ?? '', ...(data.values ?? [])].join(' ').trim();
}

/**
 * Parses a verified interaction body. Unknown or incomplete interactions are `invalid`.
 * `interactionAt` (epoch ms) goes into the reply handle: the follow-up token dies 15 minutes after it.
 */
export function parseDiscordInteraction(json: unknown, target: InboundTarget, interactionAt: number): DiscordParsed {
  const parsed = Interaction.safeParse(json);
  if (!parsed.success) return { kind: 'invalid' };
  const interaction = parsed.data;
  switch (interaction.type) {
    case DiscordInteractionType.PING:
      return { kind: 'ping' };
    case DiscordInteractionType.APPLICATION_COMMAND_AUTOCOMPLETE:
      return { kind: 'autocomplete' };
    case DiscordInteractionType.APPLICATION_COMMAND:
    case DiscordInteractionType.MESSAGE_COMPONENT:
    case DiscordInteractionType.MODAL_SUBMIT:
      break;
    default:
      return { kind: 'invalid' };
  }
  const user = interaction.member?.user ?? interaction.user;
  if (!user || !interaction.token || !interaction.channel_id || !interaction.application_id) return { kind: 'invalid' };
  const name = user.global_name ?? user.username;
  return {
    kind: 'interaction',
    eventKey: `interaction:${interaction.id}`,
    message: {
      platform: 'discord',
      ...target,
      conversationKey: `discord:${interaction.guild_id ?? 'dm'}:${interaction.channel_id}`,
      sender: name ? { id: user.id, name } : { id: user.id },
      text: interactionText(interaction).slice(0, MAX_INBOUND_TEXT_CHARS),
      replyHandle: { platform: 'discord', applicationId: interaction.application_id, interactionToken: interaction.token, interactionAt },
    },
  };
}
