import { beforeAll, describe, expect, it } from 'vitest';
import { LIVE_UPDATES_SHA256, PAGE_CSP } from '../../src/dashboard/page-csp';
import { encodeBase64 } from '../../src/lib';
import { page } from './dashboard-helpers';
import { send } from './helpers';
import { login, OWNER, setupInstance, type Session } from './identity-helpers';

let owner: Session;

beforeAll(async () => {
  await setupInstance();
  owner = await login(OWNER.email, OWNER.password);
});

async function sha256Base64(text: string): Promise<string> {
  return encodeBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}

describe('the live-updates script and the page CSP that allows it', () => {
  it('serves the script whose SHA-256 is the one hash the page CSP allows', async () => {
    const res = await send('/assets/live-updates.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(`sha256-${await sha256Base64(await res.text())}`).toBe(LIVE_UPDATES_SHA256);
  });

  it('allows that script by hash only: no self, no inline, no eval, and sockets only to this origin', () => {
    const directives = new Map(PAGE_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)] as const));
    expect(directives.get('script-src')).toEqual([`'${LIVE_UPDATES_SHA256}'`]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(PAGE_CSP).not.toMatch(/unsafe-(inline|eval|hashes)|strict-dynamic/);
  });

  it('puts the script (with its integrity) and a hidden live region on the approvals page', async () => {
    const res = await page(owner, '/approvals');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Security-Policy')).toBe(PAGE_CSP);
    const html = await res.text();
    expect(html).toContain(`<script src="/assets/live-updates.js" integrity="${LIVE_UPDATES_SHA256}" defer=""></script>`);
    expect(html).toContain('<div id="live-updates" role="status" aria-live="polite" data-live="approvals" hidden=""></div>');
  });

  it('runs no script on pages that show nothing live (keys, members, agents)', async () => {
    for (const path of ['/keys', '/members', '/agents']) {
      const res = await page(owner, path);
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Security-Policy')).toBe(PAGE_CSP);
      expect(await res.text()).not.toContain('<script');
    }
  });
});
