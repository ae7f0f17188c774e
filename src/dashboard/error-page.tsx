import type { Context } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../env';
import { ApiError } from '../http';
import { Layout } from './layout';

const ERROR_TEXT: Partial<Record<string, string>> = {
  NOT_FOUND: 'There is nothing here, or it belongs to another workspace.',
  FORBIDDEN: 'Your role does not allow this. Ask an admin or owner of the workspace.',
  CSRF_FAILED: 'This form has expired or did not come from this site. Go back, reload the page and try again.',
};

/** A refusal that is not about one field of a form: a page that says what happened (anything else → the app's 500). */
export function errorPage(error: Error, c: Context<AppEnv>) {
  if (!(error instanceof ApiError)) throw error;
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  const title =
    error.code === 'NOT_FOUND'
      ? 'Not found'
      : error.code === 'FORBIDDEN' || error.code === 'CSRF_FAILED'
        ? 'Not allowed'
        : 'Something went wrong';
  return c.html(
    html`<!DOCTYPE html>${(
      <Layout title={title}>
        <p>{ERROR_TEXT[error.code] ?? error.message}</p>
        <p class="mono">{`Request ${c.get('requestId') ?? ''}`}</p>
        <p>
          <a href="/">Back to the overview</a>
        </p>
      </Layout>
    )}`,
    error.status,
  );
}
