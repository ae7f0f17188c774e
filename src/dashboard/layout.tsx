import type { Child, FC, PropsWithChildren } from 'hono/jsx';
import type { Principal, Scope } from '../auth';
import { ICON_PATH, LIVE_UPDATES_PATH, STYLESHEET_PATH } from './assets';
import { LIVE_UPDATES_SHA256 } from './csp';
import { CSRF_FIELD } from './session';

/**
 * The page frame and the small components every page uses. hono/jsx escapes every value it
 * renders (text and attributes); nothing here or in a page uses raw() or
 * dangerouslySetInnerHTML, so data from a user, a manifest or a platform is always text.
 */

export interface PageFrame {
  title: string;
  /** The signed-in person, when there is one: shows the navigation. */
  principal?: Principal | undefined;
  csrf?: string | undefined;
  /** The navigation entry to mark as current. */
  section?: string | undefined;
  /** What the live-updates script watches on this page (assets/live-updates.js.txt); unset → no script. */
  live?: LiveUpdates | undefined;
}

export type LiveUpdates = { page: 'approvals' } | { page: 'invocation'; invocationId: string };

const NAV: Array<{ href: string; label: string; section: string; needs?: Scope[] }> = [
  { href: '/', label: 'Overview', section: 'home' },
  { href: '/agents', label: 'Agents', section: 'agents', needs: ['agents:read'] },
  { href: '/approvals', label: 'Approvals', section: 'approvals', needs: ['tools:invoke', 'approvals:decide'] },
  { href: '/keys', label: 'API keys', section: 'keys' },
  { href: '/members', label: 'Members', section: 'members', needs: ['admin'] },
  { href: '/credentials', label: 'Credentials', section: 'credentials', needs: ['agents:read'] },
  { href: '/audit', label: 'Audit log', section: 'audit', needs: ['audit:read'] },
];

export const Layout: FC<PropsWithChildren<PageFrame>> = ({ title, principal, csrf, section, live, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Portcullis`}</title>
      <link rel="stylesheet" href={STYLESHEET_PATH} />
      <link rel="icon" href={ICON_PATH} type="image/svg+xml" />
      {live ? <script src={LIVE_UPDATES_PATH} integrity={LIVE_UPDATES_SHA256} defer></script> : null}
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Portcullis
        </a>
        {principal ? (
          <>
            <nav aria-label="Main">
              <ul>
                {NAV.filter((item) => !item.needs || item.needs.some((scope) => principal.scopes.has(scope))).map((item) => (
                  <li>
                    <a href={item.href} aria-current={item.section === section ? 'page' : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <div class="who">
              <a href="/account/password" aria-label={`${principal.email}: change password`}>
                {principal.email}
              </a>
              <form method="post" action="/sign-out" class="inline">
                <CsrfField token={csrf} />
                <button type="submit">Sign out</button>
              </form>
            </div>
          </>
        ) : null}
      </header>
      <main id="main">
        <h1>{title}</h1>
        {live ? (
          <div
            id="live-updates"
            role="status"
            aria-live="polite"
            data-live={live.page}
            data-invocation={live.page === 'invocation' ? live.invocationId : undefined}
            hidden
          ></div>
        ) : null}
        {children}
      </main>
    </body>
  </html>
);

export const CsrfField: FC<{ token: string | undefined }> = ({ token }) => <input type="hidden" name={CSRF_FIELD} value={token ?? ''} />;

/** Errors by field name; `_form` is an error about the whole form. */
export type FieldErrors = Record<string, string>;

export const FormError: FC<{ errors?: FieldErrors | undefined }> = ({ errors }) =>
  errors?._form ? (
    <div class="notice error" role="alert">
      {errors._form}
    </div>
  ) : null;

interface FieldProps {
  name: string;
  label: string;
  type?: string;
  value?: string | undefined;
  hint?: Child;
  errors?: FieldErrors | undefined;
  required?: boolean;
  autocomplete?: string;
  minlength?: number;
  maxlength?: number;
  min?: number;
  max?: number;
  class?: string;
  placeholder?: string;
}

/** A labelled input with its hint and, when the last post failed because of it, its error right below the label. */
export const Field: FC<PropsWithChildren<FieldProps>> = (props) => {
  const id = `f-${props.name}`;
  const error = props.errors?.[props.name];
  const described = [props.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {error ? (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.type === 'password' ? undefined : props.value}
        required={props.required}
        autocomplete={props.autocomplete}
        minlength={props.minlength}
        maxlength={props.maxlength}
        min={props.min}
        max={props.max}
        class={props.class}
        placeholder={props.placeholder}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described}
      />
      {props.children}
    </div>
  );
};

export const TextArea: FC<Omit<FieldProps, 'type'> & { rows?: number }> = (props) => {
  const id = `f-${props.name}`;
  const error = props.errors?.[props.name];
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {error ? (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 10}
        required={props.required}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={[props.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined}
      >
        {props.value ?? ''}
      </textarea>
    </div>
  );
};

export const Select: FC<Omit<FieldProps, 'type'> & { options: Array<{ value: string; label: string }> }> = (props) => {
  const id = `f-${props.name}`;
  const error = props.errors?.[props.name];
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {error ? (
        <p class="error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
      <select id={id} name={props.name} aria-invalid={error ? 'true' : undefined} aria-describedby={props.hint ? `${id}-hint` : undefined}>
        {props.options.map((option) => (
          <option value={option.value} selected={option.value === props.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
};

/** A password input whose length rule is shown live as the user types, by the browser alone (CSS :valid). */
export const NewPassword: FC<{ name: string; label: string; errors?: FieldErrors | undefined; minLength: number }> = (props) => (
  <Field
    name={props.name}
    label={props.label}
    type="password"
    required
    autocomplete="new-password"
    minlength={props.minLength}
    maxlength={256}
    class="password"
    errors={props.errors}
  >
    <p class="hint policy">
      <span class="len">{`At least ${props.minLength} characters`}</span>; not a common password, not your email. Any characters, spaces and
      emoji included.
    </p>
  </Field>
);

export const Empty: FC<PropsWithChildren> = ({ children }) => <p class="empty">{children}</p>;

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/** Stable, readable JSON for showing exact arguments and policies. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
