import { Hono } from 'hono';
import { z } from 'zod';
import { MIN_PASSWORD_LENGTH, principalOf, runSetup, setSessionCookie, setupNeeded, signIn, signOut, type SignInDeps } from '../../auth';
import type { AppEnv } from '../../env';
import { ApiError } from '../../http';
import { Field, FormError, Layout, NewPassword, type FieldErrors } from '../layout';
import { fieldErrorsOf, render } from '../page';
import { clearSessionCookie, formOf, signedInPage } from '../session';

/** The same bounds the REST schemas apply (auth/schemas.ts); the domain functions apply the rest. */
const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((v) => v.toLowerCase());
const PASSWORD_MAX_CHARS = 1024;

function emailOrError(value: string | undefined): string | null {
  const parsed = Email.safeParse(value ?? '');
  return parsed.success ? parsed.data : null;
}

const SetupPage = (props: { errors?: FieldErrors; values?: Record<string, string> }) => (
  <Layout title="First-time setup">
    <div class="narrow">
      <p>
        Take ownership of this deployment: you become the owner of its first workspace. The setup token is the <code>SETUP_TOKEN</code>{' '}
        secret (locally, in <code>.dev.vars</code>, written by <code>npm run dev</code>).
      </p>
      <FormError errors={props.errors} />
      <form method="post" action="/setup" class="stack">
        <Field name="token" label="Setup token" type="password" required autocomplete="off" errors={props.errors} />
        <Field name="workspace" label="Workspace name" required maxlength={100} value={props.values?.workspace} errors={props.errors} />
        <Field
          name="email"
          label="Your email"
          type="email"
          required
          autocomplete="email"
          value={props.values?.email}
          errors={props.errors}
        />
        <NewPassword name="password" label="Password" minLength={MIN_PASSWORD_LENGTH} errors={props.errors} />
        <button type="submit">Create workspace and owner</button>
      </form>
    </div>
  </Layout>
);

const SignInPage = (props: { errors?: FieldErrors; email?: string; notice?: string }) => (
  <Layout title="Sign in">
    <div class="narrow">
      {props.notice ? (
        <div class="notice ok" role="status">
          {props.notice}
        </div>
      ) : null}
      <FormError errors={props.errors} />
      <form method="post" action="/sign-in" class="stack">
        <Field name="email" label="Email" type="email" required autocomplete="username" value={props.email} errors={props.errors} />
        <Field name="password" label="Password" type="password" required autocomplete="current-password" errors={props.errors} />
        <button type="submit">Sign in</button>
      </form>
      <p>
        Invited, or given a reset link? <a href="/accept-invite">Accept an invitation</a> · <a href="/reset">Reset a password</a>
      </p>
    </div>
  </Layout>
);

/** First-time setup, sign-in and sign-out (decisions in src/auth/setup.ts and sign-in.ts). */
export function authPages(deps: SignInDeps) {
  const router = new Hono<AppEnv>();

  router.get('/setup', async (c) => {
    if (!(await setupNeeded(c.env.DB))) return c.redirect('/sign-in', 303);
    return render(c, <SetupPage />);
  });

  router.post('/setup', async (c) => {
    const form = await formOf(c);
    const values = { workspace: form.workspace ?? '', email: form.email ?? '' };
    const email = emailOrError(form.email);
    const workspace = (form.workspace ?? '').trim();
    const errors: FieldErrors = {};
    if (!email) errors.email = 'Enter a valid email address.';
    if (workspace.length < 1 || workspace.length > 100) errors.workspace = 'Enter a name of 1 to 100 characters.';
    if (!form.token || form.token.length > 512) errors.token = 'Enter the setup token.';
    if ((form.password ?? '').length > PASSWORD_MAX_CHARS) errors.password = 'The password does not meet the policy.';
    if (Object.keys(errors).length > 0 || !email) return render(c, <SetupPage errors={errors} values={values} />, 400);
    try {
      await runSetup(
        c.env,
        { token: form.token ?? '', workspace, email, password: form.password ?? '', clientIp: c.get('clientIp') },
        deps.now,
      );
    } catch (error) {
      const refused = fieldErrorsOf(error, { password: 'password', token: 'token' });
      if (error instanceof ApiError && error.code === 'INVALID_CREDENTIALS') refused.errors = { token: 'That setup token is not right.' };
      if (error instanceof ApiError && error.code === 'CONFLICT') return c.redirect('/sign-in', 303);
      return render(c, <SetupPage errors={refused.errors} values={values} />, refused.status);
    }
    return render(c, <SignInPage email={email} notice="Setup is complete. Sign in with the email and password you chose." />, 201);
  });

  router.get('/sign-in', async (c) => {
    if (await setupNeeded(c.env.DB)) return c.redirect('/setup', 303);
    return render(c, <SignInPage />);
  });

  router.post('/sign-in', async (c) => {
    const form = await formOf(c);
    const email = emailOrError(form.email);
    const password = form.password ?? '';
    if (!email || password.length === 0 || password.length > PASSWORD_MAX_CHARS)
      return render(c, <SignInPage email={form.email ?? ''} errors={{ _form: 'Invalid credentials.' }} />, 400);
    try {
      const { session } = await signIn(c.env, { email, password, clientIp: c.get('clientIp') }, deps);
      setSessionCookie(c, session.token);
    } catch (error) {
      const refused = fieldErrorsOf(error);
      if (error instanceof ApiError && error.headers['Retry-After']) c.header('Retry-After', error.headers['Retry-After']);
      return render(c, <SignInPage email={email} errors={refused.errors} />, refused.status);
    }
    return c.redirect('/', 303);
  });

  router.post('/sign-out', signedInPage(), async (c) => {
    const principal = principalOf(c);
    if (principal.kind === 'session') await signOut(c.env, principal, deps.now);
    clearSessionCookie(c);
    return c.redirect('/sign-in', 303);
  });

  return router;
}
