import { describe, expect, it } from 'vitest';
import { planPlaceholders, swapPlaceholderHeaders, type HeaderList } from './placeholders';

const P = 'PORTCULLIS_PLACEHOLDER_00112233445566778899aabbccddeeff';
const VALUE = 'real-value-0123456789';
const bound = { placeholder: P, hosts: ['API.example.com.'], value: VALUE };
const request = (headers: HeaderList, extra: { host?: string; target?: string; body?: string } = {}) => ({
  host: 'api.example.com',
  target: '/',
  body: '',
  headers,
  ...extra,
});
const basic = (text: string) => `Basic ${btoa(text)}`;

describe('planPlaceholders: numbered precedence (docs/sandbox.md "Credential placeholders")', () => {
  it.each([
    ['the URL', request([], { host: 'evil.example', target: `/?t=${P}` })],
    ['the body', request([], { host: 'evil.example', body: `t=${P}` })],
    ['another header', request([['x-key', P]], { host: 'evil.example' })],
    ['Basic credentials', request([['authorization', basic(`u:${P}`)]], { host: 'evil.example' })],
  ])('1. a placeholder in %s towards a host it is not bound to → refuse', (_label, req) => {
    expect(planPlaceholders(req, [bound])).toEqual({ ok: false, reason: 'placeholder-foreign-host' });
  });

  it('2. in its own header (any case, host in any spelling) → swap; 3. elsewhere → left alone', () => {
    expect(planPlaceholders(request([['Authorization', `Bearer ${P}`]]), [bound])).toEqual({ ok: true, swap: [bound] });
    expect(planPlaceholders(request([['x-key', P]], { target: `/?t=${P}`, body: P }), [bound])).toEqual({ ok: true, swap: [] });
  });

  it('2. a binding that names its header swaps there and only there', () => {
    const custom = { ...bound, header: 'X-Api-Key' };
    expect(planPlaceholders(request([['x-api-key', P]]), [custom])).toEqual({ ok: true, swap: [custom] });
    expect(planPlaceholders(request([['authorization', `Bearer ${P}`]]), [custom])).toEqual({ ok: true, swap: [] });
  });
});

describe('swapPlaceholderHeaders', () => {
  it('replaces the placeholder only in the bound header, inside Basic credentials too', () => {
    const headers: HeaderList = [
      ['authorization', basic(`bot:${P}`)],
      ['x-other', P],
    ];
    expect(swapPlaceholderHeaders(headers, [bound])).toEqual([
      ['authorization', basic(`bot:${VALUE}`)],
      ['x-other', P],
    ]);
    expect(swapPlaceholderHeaders([['Authorization', `Bearer ${P}`]], [bound])).toEqual([['Authorization', `Bearer ${VALUE}`]]);
  });
});
