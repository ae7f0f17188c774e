import { describe, expect, it } from 'vitest';
import { createLogThrottle } from '../../src/lib';
import { MAX_OUTBOUND_RESPONSE_BYTES, readCapped, scrubOutboundText, sendReply, type ReplyDeps } from '../../src/webhooks';

const TELEGRAM_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SLACK_TOKEN = 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy';
const INTERACTION_TOKEN = 'aW50ZXJhY3Rpb246OTAwMDAwMDAwMDAwMDAwMDAxOnNlY3JldA';

interface Captured {
  url: string;
  init: RequestInit;
}

function capture(respond: (url: string, init: RequestInit) => Promise<Response> | Response) {
  const calls: Captured[] = [];
  const lines: string[] = [];
  const deps: ReplyDeps = {
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      calls.push({ url, init: init ?? {} });
      return respond(url, init ?? {});
    }) as typeof fetch,
    log: (line) => lines.push(line),
  };
  return { calls, lines, deps };
}

const telegramReply = {
  handle: { platform: 'telegram' as const, chatId: -100123, replyToMessageId: 7 },
  text: 'hello',
  botToken: TELEGRAM_TOKEN,
};
const slackReply = {
  handle: { platform: 'slack' as const, channel: 'C0123', threadTs: '1531420618.000100' },
  text: 'hello',
  botToken: SLACK_TOKEN,
};
const discordReply = {
  handle: {
    platform: 'discord' as const,
    applicationId: '111111111111111111',
    interactionToken: INTERACTION_TOKEN,
    interactionAt: Date.now(),
  },
  text: 'hello @everyone',
};

function expectClean(line: string) {
  for (const secret of [TELEGRAM_TOKEN, SLACK_TOKEN, INTERACTION_TOKEN, 'api.telegram.org', 'discord.com/api', 'https://'])
    expect(line).not.toContain(secret);
}

describe('outbound replies', () => {
  it('sends a Discord follow-up to the interaction webhook with mentions disabled and a timeout signal', async () => {
    const { calls, deps } = capture(() => Response.json({ id: '1' }));
    expect(await sendReply(discordReply, deps)).toEqual({ ok: true, sent: 1 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`https://discord.com/api/v10/webhooks/111111111111111111/${INTERACTION_TOKEN}`);
    expect(calls[0]?.init.method).toBe('POST');
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ content: 'hello @everyone', allowed_mentions: { parse: [] }, flags: 4 });
    expect(calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
    expect(calls[0]?.init.redirect).toBe('manual');
  });

  it('sends Slack chat.postMessage in the thread with the bot token as a Bearer header only', async () => {
    const { calls, deps } = capture(() => Response.json({ ok: true }));
    expect(await sendReply(slackReply, deps)).toEqual({ ok: true, sent: 1 });
    expect(calls[0]?.url).toBe('https://slack.com/api/chat.postMessage');
    expect(new Headers(calls[0]?.init.headers).get('Authorization')).toBe(`Bearer ${SLACK_TOKEN}`);
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({
      channel: 'C0123',
      thread_ts: '1531420618.000100',
      text: 'hello',
      unfurl_links: false,
      unfurl_media: false,
    });
    expect(String(calls[0]?.init.body)).not.toContain(SLACK_TOKEN);
    expect(calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('sends Telegram sendMessage as a reply to the original message', async () => {
    const { calls, deps } = capture(() => Response.json({ ok: true, result: {} }));
    expect(await sendReply(telegramReply, deps)).toEqual({ ok: true, sent: 1 });
    expect(calls[0]?.url).toBe(`https://api.telegram.org/bot${TELEGRAM_TOKEN}/sendMessage`);
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({
      chat_id: -100123,
      text: 'hello',
      reply_parameters: { message_id: 7, allow_sending_without_reply: true },
      link_preview_options: { is_disabled: true },
    });
    expect(calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('logs a network error without the bot token or the URL that carries it', async () => {
    const { lines, deps } = capture((url) => {
      throw new TypeError(`fetch failed: connect ECONNREFUSED for ${url} (token ${TELEGRAM_TOKEN})`);
    });
    expect(await sendReply(telegramReply, deps)).toEqual({ ok: false, reason: 'network', status: null, sent: 0 });
    expect(lines).toHaveLength(1);
    expectClean(lines[0] ?? '');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ event: 'webhook.reply.failed', platform: 'telegram', reason: 'network' });
  });

  it('logs an error status whose body echoes the token without the token', async () => {
    const { lines, deps } = capture(
      (url) => new Response(`{"ok":false,"description":"Unauthorized: ${url} ${SLACK_TOKEN}"}`, { status: 401 }),
    );
    expect(await sendReply(telegramReply, deps)).toEqual({ ok: false, reason: 'http-status', status: 401, sent: 0 });
    const { lines: slackLines, deps: slackDeps } = capture(() => new Response(`bad token ${SLACK_TOKEN}`, { status: 403 }));
    expect(await sendReply(slackReply, slackDeps)).toEqual({ ok: false, reason: 'http-status', status: 403, sent: 0 });
    const { lines: discordLines, deps: discordDeps } = capture((url) => new Response(`unknown webhook ${url}`, { status: 404 }));
    expect(await sendReply(discordReply, discordDeps)).toEqual({ ok: false, reason: 'http-status', status: 404, sent: 0 });
    expect([lines.length, slackLines.length, discordLines.length]).toEqual([1, 1, 1]);
    for (const line of [...lines, ...slackLines, ...discordLines]) expectClean(line);
  });

  it('treats Slack {"ok":false} on HTTP 200 as a failure', async () => {
    const { lines, deps } = capture(() => Response.json({ ok: false, error: 'invalid_auth' }));
    expect(await sendReply(slackReply, deps)).toEqual({ ok: false, reason: 'platform-error', status: 200, sent: 0 });
    expect(JSON.parse(lines[0] ?? '{}').detail).toBe('invalid_auth');
  });

  it('gives up after the explicit timeout', async () => {
    const { lines, deps } = capture(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    expect(await sendReply(telegramReply, { ...deps, timeoutMs: 5 })).toEqual({ ok: false, reason: 'timeout', status: null, sent: 0 });
    expectClean(lines[0] ?? '');
  });

  it('does not call out at all without a bot token where one is needed', async () => {
    const { calls, deps } = capture(() => Response.json({ ok: true }));
    expect(await sendReply({ ...slackReply, botToken: undefined }, deps)).toEqual({
      ok: false,
      reason: 'no-bot-token',
      status: null,
      sent: 0,
    });
    expect(await sendReply({ ...telegramReply, botToken: '' }, deps)).toEqual({ ok: false, reason: 'no-bot-token', status: null, sent: 0 });
    expect(calls).toEqual([]);
  });

  it('a flood of one failure writes one log line per platform and reason a minute, then one that counts the lines not written', async () => {
    const { calls, lines, deps } = capture(() => Response.json({ ok: true }));
    let now = Date.now();
    const throttled = { ...deps, logThrottle: createLogThrottle(60_000), clock: () => now };
    for (let i = 0; i < 50; i++)
      expect(await sendReply({ ...slackReply, botToken: undefined }, throttled)).toMatchObject({ reason: 'no-bot-token' });
    // Another reason and another platform are lines of their own.
    await sendReply({ ...telegramReply, botToken: undefined }, throttled);
    await sendReply({ ...slackReply, text: '' }, throttled);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>).map((l) => [l.platform, l.reason, l.suppressed])).toEqual([
      ['slack', 'no-bot-token', undefined],
      ['telegram', 'no-bot-token', undefined],
      ['slack', 'empty-reply', undefined],
    ]);
    now += 60_000;
    await sendReply({ ...slackReply, botToken: undefined }, throttled);
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ platform: 'slack', reason: 'no-bot-token', suppressed: 49 });
    expect([lines.length, calls.length]).toEqual([4, 0]);
  });

  it('reads at most MAX_OUTBOUND_RESPONSE_BYTES of a response body', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x61));
      },
    });
    const text = await readCapped(new Response(endless), MAX_OUTBOUND_RESPONSE_BYTES);
    expect(text.length).toBe(MAX_OUTBOUND_RESPONSE_BYTES);
    expect(pulled).toBeLessThan(10);
  });

  it('scrubs known secrets, URLs and token shapes from free text', () => {
    const line = scrubOutboundText(
      `GET https://api.telegram.org/bot${TELEGRAM_TOKEN}/x failed; also ${SLACK_TOKEN} and ${INTERACTION_TOKEN}`,
      [INTERACTION_TOKEN],
    );
    expectClean(line);
    expect(line).toContain('[URL]');
  });
});
