import type { Context } from 'hono';
import { html } from 'hono/html';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { principalOf, type Principal } from '../auth';
import type { AppEnv } from '../env';
import { ApiError, problemToApiError, type DomainProblem } from '../http';
import type { FieldErrors } from './layout';
import { csrfTokenOf } from './session';

/** What every signed-in page renders with. */
export interface PageContext {
  principal: Principal;
  csrf: string;
  now: number;
}

export function pageContext(c: Context<AppEnv>, now: () => number): PageContext {
  return { principal: principalOf(c), csrf: csrfTokenOf(c), now: now() };
}

/** Renders a page in standards mode; the status lets a refused post answer 400/403/409 with the form and its errors. */
export function render(c: Context<AppEnv>, page: JSX.Element, status: 200 | 201 | 400 | 401 | 403 | 404 | 409 | 429 | 503 = 200) {
  return c.html(html`<!DOCTYPE html>${page}`, status);
}

/**
 * A refusal as errors next to the fields that caused it: the first field path the refusal
 * names (`fields`, never values) that is one of this form's fields gets the message; any other
 * refusal goes above the form. Unknown errors are rethrown (the error page answers them).
 */
export function fieldErrorsOf(
  error: unknown,
  formFields: Record<string, string> = {},
): { errors: FieldErrors; status: 400 | 401 | 403 | 404 | 409 | 429 | 503 } {
  const apiError = error instanceof ApiError ? error : null;
  if (!apiError) throw error;
  const status = apiError.status as 400 | 401 | 403 | 404 | 409 | 429 | 503;
  const field = (apiError.details.fields ?? []).map((path) => formFields[path] ?? formFields[path.split('.')[0] ?? '']).find(Boolean);
  return { errors: field ? { [field]: apiError.message } : { _form: apiError.message }, status };
}

/** A domain refusal as an ApiError (the one mapping, http/outcome.ts). */
export function problemError(problem: DomainProblem): ApiError {
  return problemToApiError(problem);
}

/** Reads a positive integer form value; undefined when empty. */
export function optionalInt(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) ? n : Number.NaN;
}
