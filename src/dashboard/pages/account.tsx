import { Hono } from 'hono';
import { acceptInvite, changePassword, MIN_PASSWORD_LENGTH, principalOf, resetPassword, type SignInDeps } from '../../auth';
import type { AppEnv } from '../../env';
import { CsrfField, Field, FormError, Layout, NewPassword, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, render, type PageContext } from '../page';
import { formOf, signedInPage } from '../session';

const TOKEN_MAX_CHARS = 512;
const PASSWORD_MAX_CHARS = 1024;

const ChangePasswordPage = (props: { page: PageContext; errors?: FieldErrors; done?: boolean }) => (
  <Layout title="Change your password" principal={props.page.principal} csrf={props.page.csrf}>
    {props.done ? (
      <div class="notice ok" role="status">
        Password changed. Your other sessions and every API key you created were revoked; create new keys as needed.
      </div>
    ) : null}
    <div class="narrow">
      <FormError errors={props.errors} />
      <form method="post" action="/account/password" class="stack">
        <CsrfField token={props.page.csrf} />
        <Field
          name="currentPassword"
          label="Current password"
          type="password"
          required
          autocomplete="current-password"
          errors={props.errors}
        />
        <NewPassword name="newPassword" label="New password" minLength={MIN_PASSWORD_LENGTH} errors={props.errors} />
        <button type="submit">Change password</button>
      </form>
    </div>
  </Layout>
);

const RedeemPage = (props: { kind: 'invite' | 'reset'; errors?: FieldErrors }) => (
  <Layout title={props.kind === 'invite' ? 'Accept an invitation' : 'Reset your password'}>
    <div class="narrow">
      <p>
        {props.kind === 'invite'
          ? 'Enter the invitation token an admin gave you and choose your password.'
          : 'Enter the reset token an admin gave you and choose a new password. Your sessions and API keys end.'}
      </p>
      <FormError errors={props.errors} />
      <form method="post" action={props.kind === 'invite' ? '/accept-invite' : '/reset'} class="stack">
        <Field
          name="token"
          label={props.kind === 'invite' ? 'Invitation token' : 'Reset token'}
          type="password"
          required
          autocomplete="off"
          errors={props.errors}
        />
        <NewPassword name="password" label="New password" minLength={MIN_PASSWORD_LENGTH} errors={props.errors} />
        <button type="submit">{props.kind === 'invite' ? 'Accept and set password' : 'Reset password'}</button>
      </form>
    </div>
  </Layout>
);

/** Change password (signed in), accept an invitation and reset a password (public; src/auth/password-lifecycle.ts). */
export function accountPages(deps: SignInDeps) {
  const router = new Hono<AppEnv>();

  router.get('/account/password', signedInPage(), async (c) => render(c, <ChangePasswordPage page={pageContext(c, deps.now)} />));

  router.post('/account/password', signedInPage(), async (c) => {
    const page = pageContext(c, deps.now);
    const form = await formOf(c);
    const currentPassword = form.currentPassword ?? '';
    const newPassword = form.newPassword ?? '';
    if (currentPassword.length > PASSWORD_MAX_CHARS || newPassword.length > PASSWORD_MAX_CHARS)
      return render(c, <ChangePasswordPage page={page} errors={{ newPassword: 'The password does not meet the policy.' }} />, 400);
    try {
      await changePassword(c.env, principalOf(c), { currentPassword, newPassword }, deps);
    } catch (error) {
      const refused = fieldErrorsOf(error, { password: 'newPassword' });
      if (refused.status === 401) refused.errors = { currentPassword: 'That is not your current password.' };
      return render(c, <ChangePasswordPage page={page} errors={refused.errors} />, refused.status);
    }
    return render(c, <ChangePasswordPage page={page} done />);
  });

  for (const kind of ['invite', 'reset'] as const) {
    const path = kind === 'invite' ? '/accept-invite' : '/reset';
    router.get(path, (c) => render(c, <RedeemPage kind={kind} />));
    router.post(path, async (c) => {
      const form = await formOf(c);
      const token = form.token ?? '';
      const password = form.password ?? '';
      if (token.length < 1 || token.length > TOKEN_MAX_CHARS)
        return render(c, <RedeemPage kind={kind} errors={{ token: 'Enter the token.' }} />, 400);
      if (password.length > PASSWORD_MAX_CHARS)
        return render(c, <RedeemPage kind={kind} errors={{ password: 'The password does not meet the policy.' }} />, 400);
      try {
        if (kind === 'invite') await acceptInvite(c.env, { token, password }, deps);
        else await resetPassword(c.env, { token, newPassword: password }, deps);
      } catch (error) {
        const refused = fieldErrorsOf(error, { password: 'password' });
        if (refused.status === 401) refused.errors = { token: 'The token is invalid or has expired.' };
        return render(c, <RedeemPage kind={kind} errors={refused.errors} />, refused.status);
      }
      return c.redirect('/sign-in', 303);
    });
  }

  return router;
}
