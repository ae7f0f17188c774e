import { verifyDiscordSignature } from './discord-signature';
import { DiscordCallbackType, parseDiscordInteraction } from './discord-payload';
import { parseJsonBody, type PlatformAdapter } from './pipeline';
import { parseSlackForm } from './slack-command';
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
  parse(body, { target, header, now }) {
    // The interaction's time is the earlier of its signed timestamp and now: the follow-up
    // token's 15 minutes are never counted from later than they really started.
    const signedAt = Number(header('X-Signature-Timestamp')) * 1000;
    const interactionAt = Number.isSafeInteger(signedAt) && signedAt > 0 ? Math.min(signedAt, now) : now;
    const parsed = parseDiscordInteraction(parseJsonBody(body), target, interactionAt);
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

/** `application/x-www-form-urlencoded`, with or without parameters, in any case (RFC 9110 §8.3.1). */
const FORM_TYPE = /^\s*application\/x-www-form-urlencoded\s*(;|$)/i;

/** Slack: v0 HMAC over `v0:<timestamp>:<body>`; url_verification answered, events and slash commands acknowledged with an empty 200. */
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
  parse(body, { target, header, now }) {
    // Slash commands (and interactivity payloads) are forms; the Events API is JSON. The
    // Content-Type only picks the parser: the signature already covered these exact bytes.
    if (FORM_TYPE.test(header('Content-Type') ?? '')) {
      const form = parseSlackForm(body, target, now);
      switch (form.kind) {
        case 'invalid':
          return form;
        case 'foreign-response-url':
          return { kind: 'refused', reason: 'foreign-response-url' };
        case 'ignored':
          return { kind: 'answer', respond: (c) => c.body(null, 200) };
        case 'command':
          // An empty 200 within Slack's 3 s: nothing is shown yet; the answer comes through response_url.
          return { kind: 'event', eventKey: form.eventKey, message: form.message, retryNum: null, respond: (c) => c.body(null, 200) };
      }
    }
    const parsed = parseSlackEvent(parseJsonBody(body), target);
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
  parse(body, { target }) {
    const parsed = parseTelegramUpdate(parseJsonBody(body), target);
    if (parsed.kind === 'invalid') return parsed;
    return { kind: 'event', eventKey: parsed.eventKey, message: parsed.message, retryNum: null, respond: (c) => c.body(null, 200) };
  },
};

export const PLATFORM_ADAPTERS: readonly PlatformAdapter[] = [discordAdapter, slackAdapter, telegramAdapter];
