/**
 * sendReply's delivery rules: long replies split per platform and sent in order, short-lived
 * handles never used after they expire, the response_url and Telegram base URL checks, and
 * nothing that pings or previews. fetch and the clock are injected; every refusal also
 * checks that nothing was sent.
 */
import { describe, expect, it } from 'vitest';
import {
  DISCORD_INTERACTION_TOKEN_LIFE_MS,
  EXPIRY_MARGIN_MS,
  MAX_REPLY_MESSAGES,
  SLACK_RESPONSE_URL_LIFE_MS,
  sendReply,
  splitReplyText,
  telegramApiBaseUrl,
  TRUNCATION_NOTICE,
  type Reply,
  type ReplyDeps,
  type TelegramApiSettings,
} from '../../src/webhooks';

const T0 = Date.now();
const TELEGRAM_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SLACK_TOKEN = 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy';
const INTERACTION_TOKEN = 'aW50ZXJhY3Rpb246OTAwMDAwMDAwMDAwMDAwMDAxOnNlY3JldA';
const RESPONSE_URL = 'https://hooks.slack.com/commands/T1DC2JH3J/1335177245008/aBcDeFgHiJkLmNoPqRsTuVwX';

interface Sent {
  url: string;
  body: Record<string, unknown>;
  headers: Headers;
}

function capture(options: { now?: number; settings?: TelegramApiSettings; respond?: (n: number) => Response } = {}) {
  const sent: Sent[] = [];
  const lines: string[] = [];
  const deps: ReplyDeps = {
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      sent.push({
        url: String(input),
        body: JSON.parse(String(init?.body)) as Record<string, unknown>,
        headers: new Headers(init?.headers),
      });
      return options.respond ? options.respond(sent.length) : Response.json({ ok: true });
    }) as typeof fetch,
    log: (line) => lines.push(line),
    clock: () => options.now ?? T0,
    ...(options.settings ? { settings: options.settings } : {}),
  };
  return { sent, lines, deps };
}

const discord = (text: string, interactionAt = T0): Reply => ({
  handle: { platform: 'discord', applicationId: '111111111111111111', interactionToken: INTERACTION_TOKEN, interactionAt },
  text,
});
const slackThread = (text: string): Reply => ({
  handle: { platform: 'slack', channel: 'C0123', threadTs: '1531420618.000100' },
  text,
  botToken: SLACK_TOKEN,
});
const slackCommand = (text: string, responseUrl = RESPONSE_URL, receivedAt = T0): Reply => ({
  handle: { platform: 'slack', responseUrl, receivedAt },
  text,
});
const telegram = (text: string): Reply => ({
  handle: { platform: 'telegram', chatId: -100123, replyToMessageId: 7, messageThreadId: 12 },
  text,
  botToken: TELEGRAM_TOKEN,
});

const FENCE = '`'.repeat(3);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A text of `n` characters in words and lines, like a model's answer. */
function prose(n: number): string {
  const words: string[] = [];
  let length = 0;
  for (let i = 0; length < n; i++) {
    const word = i % 17 === 16 ? `word${i}\n` : `word${i} `;
    words.push(word);
    length += word.length;
  }
  return words.join('').slice(0, n);
}

describe('long replies are split per platform and sent in order', () => {
  it('a Telegram reply of 10,000 characters goes as 3 messages to the configured Bot API base URL', async () => {
    const settings = { TELEGRAM_API_BASE_URL: 'https://tg-bot-api.example.net/custom/' };
    const { sent, deps } = capture({ settings });
    const text = prose(10_000);
    expect(await sendReply(telegram(text), deps)).toEqual({ ok: true, sent: 3 });
    expect(sent.map((s) => s.url)).toEqual(Array(3).fill(`https://tg-bot-api.example.net/custom/bot${TELEGRAM_TOKEN}/sendMessage`));
    const parts = sent.map((s) => String(s.body.text));
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(4096);
    // Cut at separators only: joined back with the dropped newline or space, the words are all there, in order.
    expect(parts.join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
    expect(sent[0]?.body.reply_parameters).toEqual({ message_id: 7, allow_sending_without_reply: true });
    expect(sent.slice(1).map((s) => s.body.reply_parameters)).toEqual([undefined, undefined]);
    expect(sent.map((s) => s.body.message_thread_id)).toEqual([12, 12, 12]);
    expect(sent.map((s) => s.body.link_preview_options)).toEqual(Array(3).fill({ is_disabled: true }));
  });

  it('splits Discord at 2,000 and Slack at 40,000 characters', async () => {
    const d = capture();
    expect(await sendReply(discord(prose(4_500)), d.deps)).toEqual({ ok: true, sent: 3 });
    for (const s of d.sent) expect(String(s.body.content).length).toBeLessThanOrEqual(2000);
    const s = capture();
    expect(await sendReply(slackThread(prose(40_000)), s.deps)).toEqual({ ok: true, sent: 1 });
    expect(await sendReply(slackThread(prose(40_001)), s.deps)).toEqual({ ok: true, sent: 2 });
  });

  it('prefers a newline to a space, and a space to a hard cut', () => {
    const lines = `${'a'.repeat(1500)}\n${'b'.repeat(400)} ${'c'.repeat(400)}`;
    expect(splitReplyText(lines, { limit: 2000, maxParts: 10 })).toEqual(['a'.repeat(1500), `${'b'.repeat(400)} ${'c'.repeat(400)}`]);
    const spaces = `${'a'.repeat(1500)} ${'b'.repeat(1000)}`;
    expect(splitReplyText(spaces, { limit: 2000, maxParts: 10 })).toEqual(['a'.repeat(1500), 'b'.repeat(1000)]);
    const solid = 'x'.repeat(4500);
    expect(splitReplyText(solid, { limit: 2000, maxParts: 10 }).map((p) => p.length)).toEqual([2000, 2000, 500]);
  });

  it('closes a code block cut between two messages and reopens it, with its language, in the next', async () => {
    const code = Array.from({ length: 300 }, (_, i) => `const line${i} = ${i};`).join('\n');
    const text = `Here is the file:\n${FENCE}ts\n${code}\n${FENCE}\nThat is all.`;
    const { sent, deps } = capture();
    expect((await sendReply(discord(text), deps)).ok).toBe(true);
    const parts = sent.map((s) => String(s.body.content));
    expect(parts.length).toBeGreaterThan(2);
    for (const [index, part] of parts.entries()) {
      expect(part.length).toBeLessThanOrEqual(2000);
      expect(part.split(FENCE).length % 2).toBe(1); // an even number of fences: every block closed
      if (index > 0) expect(part.startsWith(`${FENCE}ts\n`)).toBe(true);
    }
    expect(parts.at(-1)?.endsWith('That is all.')).toBe(true);
    // Nothing of the code is lost: every line arrives once, in order.
    const lines = parts
      .join('\n')
      .split('\n')
      .filter((line) => line.startsWith('const '));
    expect(lines).toEqual(code.split('\n'));
  });

  it('adds no fence on Telegram, which reads no markdown, nor to a reply that fits in one message', () => {
    const text = `${FENCE}\n${'t '.repeat(1500)}`;
    expect(splitReplyText(text, { limit: 4096, maxParts: 10, fences: true })).toEqual([text]);
    const parts = splitReplyText(text, { limit: 2000, maxParts: 10 });
    expect(parts.length).toBe(2);
    expect(parts.join(' ').split(FENCE).length).toBe(2);
  });

  it('never cuts inside a surrogate pair (an emoji is never split into two broken halves)', () => {
    for (const offset of [0, 1]) {
      const text = `${'x'.repeat(offset)}${'😀'.repeat(3000)}`;
      const parts = splitReplyText(text, { limit: 2000, maxParts: 10 });
      expect(parts.join('')).toBe(text);
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(2000);
        expect(part).not.toMatch(LONE_SURROGATE);
      }
    }
  });

  it('never cuts a Slack entity in two, so escaped text stays readable', async () => {
    const { sent, deps } = capture();
    expect(await sendReply(slackThread('<'.repeat(12_000)), deps)).toEqual({ ok: true, sent: 2 }); // 48,000 units escaped
    for (const s of sent) expect(String(s.body.text)).toMatch(/^(&lt;)+$/);
    expect(splitReplyText(`${'y'.repeat(1998)}&lt;`, { limit: 2000, maxParts: 10, entities: true })).toEqual(['y'.repeat(1998), '&lt;']);
  });

  it(`caps a reply at ${MAX_REPLY_MESSAGES} messages and says it was truncated`, async () => {
    const { sent, deps } = capture();
    expect(await sendReply(discord('z'.repeat(2000 * 12)), deps)).toEqual({ ok: true, sent: MAX_REPLY_MESSAGES });
    expect(sent).toHaveLength(MAX_REPLY_MESSAGES);
    const last = String(sent.at(-1)?.body.content);
    expect(last.endsWith(TRUNCATION_NOTICE)).toBe(true);
    expect(last.length).toBeLessThanOrEqual(2000);
  });

  it('stops at the first failed message: the rest is never sent', async () => {
    const { sent, lines, deps } = capture({
      respond: (n) => (n === 2 ? new Response('rate limited', { status: 429 }) : Response.json({ ok: true })),
    });
    expect(await sendReply(telegram(prose(12_000)), deps)).toEqual({ ok: false, reason: 'http-status', status: 429, sent: 1 });
    expect(sent).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ event: 'webhook.reply.failed', sent: 1 });
    expect(lines[0]).not.toContain(TELEGRAM_TOKEN);
  });

  it('sends nothing for an empty or blank reply', async () => {
    const { sent, deps } = capture();
    for (const text of ['', '   \n\t '])
      expect(await sendReply(discord(text), deps)).toEqual({ ok: false, reason: 'empty-reply', status: null, sent: 0 });
    expect(sent).toEqual([]);
  });
});

describe('nothing in a reply pings or previews', () => {
  it('mass mentions are not pinged on Discord: every part carries allowed_mentions {parse: []} and suppresses embeds', async () => {
    const { sent, deps } = capture();
    const text = `@everyone @here <@&222222222222222222> <@333333333333333333> ${'look '.repeat(600)}`;
    expect((await sendReply(discord(text), deps)).ok).toBe(true);
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) {
      expect(s.body.allowed_mentions).toEqual({ parse: [] });
      expect(s.body.flags).toBe(4);
    }
  });

  it('Slack special mentions and masked links are escaped, and links are not unfurled', async () => {
    const { sent, deps } = capture();
    await sendReply(slackThread('<!channel> <!here> <@U123> <https://evil.example|https://bank.example> & done'), deps);
    await sendReply(slackCommand('<!everyone>'), deps);
    expect(sent.map((s) => s.body.text)).toEqual([
      '&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;https://evil.example|https://bank.example&gt; &amp; done',
      '&lt;!everyone&gt;',
    ]);
    for (const s of sent) expect([s.body.unfurl_links, s.body.unfurl_media]).toEqual([false, false]);
  });
});

describe('short-lived handles are never used after they expire', () => {
  it('a Discord follow-up goes out inside the token life and not once the 15 minutes are (nearly) over', async () => {
    const inside = capture({ now: T0 + DISCORD_INTERACTION_TOKEN_LIFE_MS - EXPIRY_MARGIN_MS - 1 });
    expect(await sendReply(discord('late but fine'), inside.deps)).toEqual({ ok: true, sent: 1 });
    expect(inside.sent[0]?.url).toBe(`https://discord.com/api/v10/webhooks/111111111111111111/${INTERACTION_TOKEN}`);
    for (const now of [
      T0 + DISCORD_INTERACTION_TOKEN_LIFE_MS - EXPIRY_MARGIN_MS,
      T0 + DISCORD_INTERACTION_TOKEN_LIFE_MS + 1,
      T0 + 86_400_000,
    ]) {
      const { sent, lines, deps } = capture({ now });
      expect(await sendReply(discord('too late'), deps)).toEqual({ ok: false, reason: 'expired', status: null, sent: 0 });
      expect(sent).toEqual([]);
      expect(lines[0]).not.toContain(INTERACTION_TOKEN);
    }
  });

  it('a handle without a valid interaction time is treated as expired (fail closed)', async () => {
    const { sent, deps } = capture();
    for (const at of [Number.NaN, 0, -1, 1.5]) expect((await sendReply(discord('x', at), deps)).ok).toBe(false);
    expect(sent).toEqual([]);
  });

  it('a slash command response_url is used for 30 minutes, at most 5 times', async () => {
    const late = capture({ now: T0 + SLACK_RESPONSE_URL_LIFE_MS });
    expect(await sendReply(slackCommand('late'), late.deps)).toEqual({ ok: false, reason: 'expired', status: null, sent: 0 });
    expect(late.sent).toEqual([]);
    const { sent, deps } = capture({ respond: () => new Response('ok') });
    expect(await sendReply(slackCommand(prose(300_000)), deps)).toEqual({ ok: true, sent: 5 });
    expect(sent.map((s) => s.url)).toEqual(Array(5).fill(RESPONSE_URL));
    expect(sent[0]?.body).toMatchObject({ response_type: 'ephemeral' });
    expect(sent[0]?.headers.get('Authorization')).toBeNull();
  });

  it('a Discord interaction expiring between two parts stops the reply there', async () => {
    let now = T0;
    const sent: string[] = [];
    const deps: ReplyDeps = {
      fetch: (async (input: RequestInfo | URL) => {
        sent.push(String(input));
        now = T0 + DISCORD_INTERACTION_TOKEN_LIFE_MS; // the first part took the rest of the token's life
        return Response.json({ id: '1' });
      }) as typeof fetch,
      clock: () => now,
      log: () => undefined,
    };
    expect(await sendReply(discord(prose(5000)), deps)).toEqual({ ok: false, reason: 'expired', status: null, sent: 1 });
    expect(sent).toHaveLength(1);
  });
});

describe('reply destinations', () => {
  it.each([
    ['another host', 'https://evil.example/commands/T1/1/x'],
    ['a look-alike host', 'https://hooks.slack.com.evil.example/commands/T1/1/x'],
    ['a suffix look-alike', 'https://evilhooks.slack.com/commands/T1/1/x'],
    ['another Slack host', 'https://slack.com/api/chat.postMessage'],
    ['userinfo naming Slack', 'https://hooks.slack.com@evil.example/commands/T1/1/x'],
    ['plain http', 'http://hooks.slack.com/commands/T1/1/x'],
    ['another port', 'https://hooks.slack.com:8443/commands/T1/1/x'],
    ['a trailing dot', 'https://hooks.slack.com./commands/T1/1/x'],
    ['not a URL', 'hooks.slack.com/commands/T1/1/x'],
    ['a private address', 'https://10.0.0.5/commands/T1/1/x'],
  ])('refuses a response_url on %s at send time and sends nothing', async (_label, url) => {
    const { sent, lines, deps } = capture();
    expect(await sendReply(slackCommand('hi', url), deps)).toEqual({ ok: false, reason: 'bad-destination', status: null, sent: 0 });
    expect(sent).toEqual([]);
    expect(lines[0]).not.toContain(url);
  });

  it.each([
    ['plain http to a host not listed', { TELEGRAM_API_BASE_URL: 'http://tg.example.net' }, 'scheme'],
    ['a private address not listed', { TELEGRAM_API_BASE_URL: 'https://10.1.2.3' }, 'private-host'],
    ['localhost not listed', { TELEGRAM_API_BASE_URL: 'https://localhost:8081' }, 'private-host'],
    ['an obfuscated loopback address', { TELEGRAM_API_BASE_URL: 'https://0x7f000001' }, 'private-host'],
    ['a listed host on another port', { TELEGRAM_API_BASE_URL: 'http://10.1.2.3:9000', TELEGRAM_PRIVATE_HOSTS: '10.1.2.3:8081' }, 'scheme'],
    ['userinfo', { TELEGRAM_API_BASE_URL: 'https://api.telegram.org@evil.example' }, 'userinfo'],
    ['a query', { TELEGRAM_API_BASE_URL: 'https://tg.example.net/?x=1' }, 'query-or-fragment'],
    ['a fragment', { TELEGRAM_API_BASE_URL: 'https://tg.example.net/#' }, 'query-or-fragment'],
    ['another scheme', { TELEGRAM_API_BASE_URL: 'ftp://tg.example.net' }, 'scheme'],
    ['not a URL', { TELEGRAM_API_BASE_URL: 'tg.example.net' }, 'malformed-url'],
  ] as const)('refuses a TELEGRAM_API_BASE_URL with %s; Telegram replies then send nothing', async (_label, settings, reason) => {
    expect(telegramApiBaseUrl(settings)).toEqual({ ok: false, reason });
    const { sent, lines, deps } = capture({ settings });
    expect(await sendReply(telegram('hi'), deps)).toEqual({ ok: false, reason: 'bad-destination', status: null, sent: 0 });
    expect(sent).toEqual([]);
    expect(lines[0]).not.toContain(TELEGRAM_TOKEN);
  });

  it.each([
    ['unset', {}, 'https://api.telegram.org'],
    ['blank', { TELEGRAM_API_BASE_URL: '  ' }, 'https://api.telegram.org'],
    ['https to a public host, trailing slash dropped', { TELEGRAM_API_BASE_URL: 'https://TG.example.net/' }, 'https://tg.example.net'],
    [
      'http to a listed host:port',
      { TELEGRAM_API_BASE_URL: 'http://127.0.0.1:8081', TELEGRAM_PRIVATE_HOSTS: 'x:1, 127.0.0.1:8081' },
      'http://127.0.0.1:8081',
    ],
    [
      'a listed name, listed in another spelling',
      { TELEGRAM_API_BASE_URL: 'http://bot-api.local:80/', TELEGRAM_PRIVATE_HOSTS: 'BOT-API.local:80' },
      'http://bot-api.local',
    ],
  ] as const)('allows a TELEGRAM_API_BASE_URL that is %s', async (_label, settings, base) => {
    expect(telegramApiBaseUrl(settings)).toEqual({ ok: true, url: base });
    const { sent, deps } = capture({ settings });
    expect(await sendReply(telegram('hi'), deps)).toEqual({ ok: true, sent: 1 });
    expect(sent[0]?.url).toBe(`${base}/bot${TELEGRAM_TOKEN}/sendMessage`);
  });
});
