import { verifyDiscordSignature } from './discord-signature';
import { DiscordCallbackType, parseDiscordInteraction } from './discord-payload';
import type { PlatformAdapter } from './pipeline';
import { verifySlackSignature } from './slack-signature';
import { parseSlackEvent } from './slack-payload';
import { verifyTelegramSecret } from './telegram-secret';
import { parseTelegramUpdate } from './telegram-payload';

/** Discord: Ed25519 over timestamp + body; PING and autocomplete answered at once, the rest deferred. */
export const discordAdapter: PlatformAdapter = {
  platform: 'discord',
  verify: ({ record, raw, header, now }) =>
    verifyDiscordSignature({
      publicKeyHex: record.secrets.publicKey ?? '',
      signatureHex: header('X-Signature-Ed25519'),
      timestamp: header('X-Signature-Timestamp'),
      rawBody: raw,
      now,
    }),
  parse(json, { target }) {
    const parsed = parseDiscordInteraction(json, target);
    switch (parsed.kind) {
      case 'invalid':
        return parsed;
      case 'ping':
        return { kind: 'answer', respond: (c) => c.json({ type: DiscordCallbackType.PONG }) };
      case 'autocomplete':
        return { kind: 'answer', respond: (c) => c.json({ type: DiscordCallbackType.AUTOCOMPLETE_RESULT, data: { choices: [] } }) };
      case 'interaction':
        return {
          kind: 'event',
          eventKey: parsed.eventKey,
          message: parsed.message,
          retryNum: null,
          respond: (c) => c.json({ type: DiscordCallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE }),
        };
    }
  },
};

/** Slack: v0 HMAC over `v0:<timestamp>:<body>`; url_verification answered, events acknowledged with an empty 200. */
export const slackAdapter: PlatformAdapter = {
  platform: 'slack',
  verify: ({ record, raw, header, now }) =>
    verifySlackSignature({
      signingSecret: record.secrets.signingSecret ?? '',
      signatureHeader: header('X-Slack-Signature'),
      timestampHeader: header('X-Slack-Request-Timestamp'),
      rawBody: raw,
      now,
    }),
  parse(json, { target, header }) {
    const parsed = parseSlackEvent(json, target);
    switch (parsed.kind) {
      case 'invalid':
        return parsed;
      case 'challenge':
        return { kind: 'answer', respond: (c) => c.json({ challenge: parsed.challenge }) };
      case 'ignored':
        return { kind: 'answer', respond: (c) => c.body(null, 200) };
      case 'event': {
        const retry = header('X-Slack-Retry-Num');
        const retryNum = retry !== undefined && /^[0-9]{1,3}$/.test(retry) ? Number(retry) : null;
        return { kind: 'event', eventKey: parsed.eventKey, message: parsed.message, retryNum, respond: (c) => c.body(null, 200) };
      }
    }
  },
};

/** Telegram: the setWebhook secret token in a header; every update acknowledged with an empty 200. */
export const telegramAdapter: PlatformAdapter = {
  platform: 'telegram',
  verify: ({ record, header }) => verifyTelegramSecret(record.secrets.secretToken, header('X-Telegram-Bot-Api-Secret-Token')),
  parse(json, { target }) {
    const parsed = parseTelegramUpdate(json, target);
    if (parsed.kind === 'invalid') return parsed;
    return { kind: 'event', eventKey: parsed.eventKey, message: parsed.message, retryNum: null, respond: (c) => c.body(null, 200) };
  },
};

export const PLATFORM_ADAPTERS: readonly PlatformAdapter[] = [discordAdapter, slackAdapter, telegramAdapter];
