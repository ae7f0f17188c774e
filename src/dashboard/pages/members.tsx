import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { changeUserRole, inviteUser, issuePasswordReset, listUsers, type Clock } from '../../auth';
import { ROLES, type Role } from '../../db';
import type { AppEnv } from '../../env';
import { CsrfField, Field, FormError, formatTime, Layout, Select, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, problemError, render, type PageContext } from '../page';
import { formOf, signedInPage } from '../session';
import { memberRemovePages } from './member-remove';

type UserList = Extract<Awaited<ReturnType<typeof listUsers>>, { ok: true }>['value'];
const ROLE_OPTIONS = ROLES.map((role) => ({ value: role, label: role }));
const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((v) => v.toLowerCase());

interface OneTime {
  what: string;
  token: string;
  expiresAt: number;
  page: string;
}

const MembersPage = (props: {
  page: PageContext;
  users: UserList;
  errors?: FieldErrors;
  values?: Record<string, string>;
  oneTime?: OneTime;
}) => {
  const { principal, csrf } = props.page;
  return (
    <Layout title="Members" principal={principal} csrf={csrf} section="members">
      {props.oneTime ? (
        <div class="notice warn" role="status">
          <p>
            <strong>{props.oneTime.what}</strong>
            {` Give this token to the person (shown once, valid until ${formatTime(props.oneTime.expiresAt)}); they enter it at `}
            <a href={props.oneTime.page}>{props.oneTime.page}</a>.
          </p>
          <p class="secret mono">{props.oneTime.token}</p>
        </div>
      ) : null}
      <FormError errors={props.errors} />
      <div class="table-wrap" tabindex={0} role="region" aria-label="Scrollable table">
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Since</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.users.map((user) => (
              <tr>
                <td>{user.email}</td>
                <td>{user.isInstanceOwner ? `${user.role} (instance owner)` : user.role}</td>
                <td>{formatTime(user.createdAt)}</td>
                <td>
                  {user.id === principal.userId || user.isInstanceOwner ? (
                    '—'
                  ) : (
                    <>
                      <form method="post" action={`/members/${encodeURIComponent(user.id)}/role`} class="inline">
                        <CsrfField token={csrf} />
                        <label for={`role-${user.id}`}>{`Role of ${user.email}`}</label>{' '}
                        <select id={`role-${user.id}`} name="role">
                          {ROLES.map((role) => (
                            <option value={role} selected={role === user.role}>
                              {role}
                            </option>
                          ))}
                        </select>{' '}
                        <button type="submit" class="secondary">
                          Change role
                        </button>
                      </form>{' '}
                      <form method="post" action={`/members/${encodeURIComponent(user.id)}/reset`} class="inline">
                        <CsrfField token={csrf} />
                        <button type="submit" class="secondary" aria-label={`Reset password of ${user.email}`}>
                          Reset password
                        </button>
                      </form>{' '}
                      <a
                        class="button secondary"
                        href={`/members/${encodeURIComponent(user.id)}/remove`}
                        aria-label={`Remove ${user.email}`}
                      >
                        Remove…
                      </a>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Invite someone</h2>
      <div class="panel">
        <form method="post" action="/members" class="stack">
          <CsrfField token={csrf} />
          <Field name="email" label="Email" type="email" required value={props.values?.email} errors={props.errors} />
          <Select name="role" label="Role" options={ROLE_OPTIONS} value={props.values?.role ?? 'operator'} errors={props.errors} />
          <button type="submit">Invite</button>
        </form>
      </div>
    </Layout>
  );
};

/** Members: invite, change a role, issue a password reset, remove (src/auth/users.ts, remove-member.ts; admins only). */
export function memberPages(now: Clock) {
  const router = new Hono<AppEnv>();
  async function usersOf(c: Context<AppEnv>) {
    const listed = await listUsers(c.env, pageContext(c, now).principal);
    if (!listed.ok) throw problemError(listed.problem);
    return listed.value;
  }
  const admin = signedInPage({ scopes: ['admin'] });
  const roleOf = (value: string | undefined): Role | null => ((ROLES as readonly string[]).includes(value ?? '') ? (value as Role) : null);

  router.get('/members', admin, async (c) => render(c, <MembersPage page={pageContext(c, now)} users={await usersOf(c)} />));

  router.post('/members', admin, async (c) => {
    const page = pageContext(c, now);
    const form = await formOf(c);
    const values = { email: form.email ?? '', role: form.role ?? '' };
    const email = Email.safeParse(values.email);
    const role = roleOf(values.role);
    if (!email.success || !role) {
      const errors: FieldErrors = !email.success ? { email: 'Enter a valid email address.' } : { role: 'Choose a role.' };
      return render(c, <MembersPage page={page} users={await usersOf(c)} errors={errors} values={values} />, 400);
    }
    const invited = await inviteUser(c.env, page.principal, { email: email.data, role }, now);
    if (!invited.ok) {
      const refused = fieldErrorsOf(problemError(invited.problem), { email: 'email', role: 'role' });
      return render(c, <MembersPage page={page} users={await usersOf(c)} errors={refused.errors} values={values} />, refused.status);
    }
    const oneTime = {
      what: `${email.data} is invited as ${role}.`,
      token: invited.value.inviteToken,
      expiresAt: invited.value.expiresAt,
      page: '/accept-invite',
    };
    return render(c, <MembersPage page={page} users={await usersOf(c)} oneTime={oneTime} />, 201);
  });

  router.post('/members/:id/role', admin, async (c) => {
    const page = pageContext(c, now);
    const role = roleOf((await formOf(c)).role);
    if (!role) return render(c, <MembersPage page={page} users={await usersOf(c)} errors={{ _form: 'Choose a role.' }} />, 400);
    const changed = await changeUserRole(c.env, page.principal, { id: c.req.param('id').slice(0, 64), role }, now);
    if (!changed.ok) {
      const refused = fieldErrorsOf(problemError(changed.problem));
      return render(c, <MembersPage page={page} users={await usersOf(c)} errors={refused.errors} />, refused.status);
    }
    return c.redirect('/members', 303);
  });

  router.post('/members/:id/reset', admin, async (c) => {
    const page = pageContext(c, now);
    const issued = await issuePasswordReset(c.env, page.principal, c.req.param('id').slice(0, 64), now);
    if (!issued.ok) {
      const refused = fieldErrorsOf(problemError(issued.problem));
      return render(c, <MembersPage page={page} users={await usersOf(c)} errors={refused.errors} />, refused.status);
    }
    const oneTime = {
      what: 'A password reset was issued.',
      token: issued.value.resetToken,
      expiresAt: issued.value.expiresAt,
      page: '/reset',
    };
    return render(c, <MembersPage page={page} users={await usersOf(c)} oneTime={oneTime} />, 201);
  });

  router.route('/', memberRemovePages(now));

  return router;
}
