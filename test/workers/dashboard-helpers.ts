import { expect } from 'vitest';
import { ORIGIN, send } from './helpers';
import type { Session } from './identity-helpers';

/** A dashboard page as the signed-in browser fetches it (cookie only). */
export function page(session: Pick<Session, 'cookie'>, path: string): Promise<Response> {
  return send(path, { headers: { Cookie: session.cookie } });
}

/** The `_csrf` value a page rendered into its forms (what a browser would post back). */
export async function formTokenOf(session: Pick<Session, 'cookie'>, path = '/'): Promise<string> {
  const res = await page(session, path);
  expect(res.status).toBe(200);
  const token = /name="_csrf" value="([^"]*)"/.exec(await res.text())?.[1];
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return token ?? '';
}

/** An HTML form post from the gateway's own page: urlencoded body, same Origin, the session cookie. */
export function postForm(
  path: string,
  fields: Record<string, string>,
  init: { cookie?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    Origin: ORIGIN,
    ...(init.cookie ? { Cookie: init.cookie } : {}),
    ...init.headers,
  };
  return send(path, { method: 'POST', headers, body: new URLSearchParams(fields).toString(), redirect: 'manual' });
}
