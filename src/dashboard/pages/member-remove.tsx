import { Hono } from 'hono';
import { listUsers, removeMember, type Clock } from '../../auth';
import type { AppEnv } from '../../env';
import { CsrfField, FormError, Layout, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, problemError, render, type PageContext } from '../page';
import { signedInPage } from '../session';

type Member = Extract<Awaited<ReturnType<typeof listUsers>>, { ok: true }>['value'][number];

/**
 * The confirmation step before a member is removed: a page of its own (a link from the members
 * list), not a script's confirm(), so it works without JavaScript; the removal is the form on
 * it, a POST with the session's form token like every other.
 */
const RemoveMemberPage = (props: { page: PageContext; member: Member; errors?: FieldErrors }) => {
  const { principal, csrf } = props.page;
  const { member } = props;
  return (
    <Layout title="Remove a member" principal={principal} csrf={csrf} section="members">
      <FormError errors={props.errors} />
      <div class="panel stack">
        <p>
          <strong>{`Remove ${member.email} (${member.role}) from this workspace?`}</strong>
        </p>
        <p>
          Their sessions end at once, every API key they created and every OAuth grant they gave is revoked, and they can no longer sign in.
          The audit log keeps what they did. To let them back in, invite the address again.
        </p>
        <form method="post" action={`/members/${encodeURIComponent(member.id)}/remove`} class="inline">
          <CsrfField token={csrf} />
          <button type="submit" class="danger">{`Remove ${member.email}`}</button>
        </form>{' '}
        <a class="button secondary" href="/members">
          Keep them
        </a>
      </div>
    </Layout>
  );
};

/** GET /members/:id/remove (confirm), POST /members/:id/remove (removeMember, src/auth/remove-member.ts; admins only). */
export function memberRemovePages(now: Clock) {
  const router = new Hono<AppEnv>();
  const admin = signedInPage({ scopes: ['admin'] });

  async function memberOf(page: PageContext, env: AppEnv['Bindings'], id: string): Promise<Member> {
    const listed = await listUsers(env, page.principal);
    if (!listed.ok) throw problemError(listed.problem);
    const member = listed.value.find((user) => user.id === id);
    if (!member) throw problemError({ kind: 'not-found' });
    return member;
  }

  router.get('/members/:id/remove', admin, async (c) => {
    const page = pageContext(c, now);
    return render(c, <RemoveMemberPage page={page} member={await memberOf(page, c.env, c.req.param('id').slice(0, 64))} />);
  });

  router.post('/members/:id/remove', admin, async (c) => {
    const page = pageContext(c, now);
    const id = c.req.param('id').slice(0, 64);
    const member = await memberOf(page, c.env, id);
    const removed = await removeMember(c.env, page.principal, id, now);
    if (!removed.ok) {
      const refused = fieldErrorsOf(problemError(removed.problem));
      return render(c, <RemoveMemberPage page={page} member={member} errors={refused.errors} />, refused.status);
    }
    return c.redirect('/members', 303);
  });

  return router;
}
