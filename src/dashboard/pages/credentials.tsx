import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Clock } from '../../auth';
import type { AppEnv } from '../../env';
import {
  CredentialName,
  deleteCredential,
  listCredentials,
  PutCredentialBody,
  putCredential,
  vaultProblemToApiError,
  type CredentialView,
} from '../../vault';
import { CsrfField, Empty, Field, FormError, formatTime, Layout, type FieldErrors } from '../layout';
import { pageContext, render, type PageContext } from '../page';
import { formOf, signedInPage } from '../session';

const CredentialsPage = (props: {
  page: PageContext;
  credentials: CredentialView[];
  errors?: FieldErrors;
  values?: Record<string, string>;
  saved?: string;
}) => {
  const { principal, csrf } = props.page;
  const canWrite = principal.scopes.has('credentials:write');
  return (
    <Layout title="Credentials" principal={principal} csrf={csrf} section="credentials">
      <p>
        Secrets your tools use (<code>env:inject:NAME</code>), encrypted in the vault. Values are never shown again; bind a credential to
        the hosts it may be sent to.
      </p>
      {props.saved ? (
        <div class="notice ok" role="status">
          {`Credential ${props.saved} saved.`}
        </div>
      ) : null}
      {props.credentials.length === 0 ? (
        <Empty>No credentials yet. Store one below, e.g. GITHUB_TOKEN bound to api.github.com.</Empty>
      ) : (
        <div class="table-wrap" tabindex={0} role="region" aria-label="Scrollable table">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
                <th scope="col">Bound hosts</th>
                <th scope="col">Updated</th>
                {canWrite ? <th scope="col">Action</th> : null}
              </tr>
            </thead>
            <tbody>
              {props.credentials.map((credential) => (
                <tr>
                  <td class="mono">{credential.name}</td>
                  <td class="mono">{credential.masked}</td>
                  <td>{credential.allowedHosts?.join(', ') ?? 'not bound'}</td>
                  <td>{formatTime(credential.updatedAt)}</td>
                  {canWrite ? (
                    <td>
                      <form method="post" action={`/credentials/${encodeURIComponent(credential.name)}/delete`} class="inline">
                        <CsrfField token={csrf} />
                        <button type="submit" class="danger" aria-label={`Delete ${credential.name}`}>
                          Delete
                        </button>
                      </form>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite ? (
        <>
          <h2>Store or replace a credential</h2>
          <div class="panel">
            <FormError errors={props.errors} />
            <form method="post" action="/credentials" class="stack">
              <CsrfField token={csrf} />
              <Field
                name="name"
                label="Name"
                required
                value={props.values?.name}
                hint="Upper case, digits and underscores, e.g. GITHUB_TOKEN."
                errors={props.errors}
              />
              <Field name="value" label="Value" type="password" required autocomplete="off" errors={props.errors} />
              <Field
                name="allowedHosts"
                label="Bound hosts"
                value={props.values?.allowedHosts}
                hint="Comma-separated hostnames it may be sent to; empty = not bound."
                errors={props.errors}
              />
              <button type="submit">Save credential</button>
            </form>
          </div>
        </>
      ) : null}
    </Layout>
  );
};

/** Credentials: masked list, create/replace with bound hosts, delete (src/vault/credentials.ts). */
export function credentialPages(now: Clock) {
  const router = new Hono<AppEnv>();
  const actorOf = (c: Context<AppEnv>) => {
    const principal = pageContext(c, now).principal;
    return principal.apiKeyId ? `api_key:${principal.apiKeyId}` : `user:${principal.userId}`;
  };
  async function credentialsOf(c: Context<AppEnv>): Promise<CredentialView[]> {
    const listed = await listCredentials(c.env, pageContext(c, now).principal.workspaceId);
    if (!listed.ok) throw vaultProblemToApiError(listed.problem, c.get('requestId'));
    return listed.value;
  }

  router.get('/credentials', signedInPage({ scopes: ['agents:read'] }), async (c) =>
    render(c, <CredentialsPage page={pageContext(c, now)} credentials={await credentialsOf(c)} />),
  );

  router.post('/credentials', signedInPage({ scopes: ['credentials:write'] }), async (c) => {
    const page = pageContext(c, now);
    const form = await formOf(c);
    const values = { name: form.name ?? '', allowedHosts: form.allowedHosts ?? '' };
    const name = CredentialName.safeParse(values.name.trim());
    const hosts = values.allowedHosts
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    const body = PutCredentialBody.safeParse({ value: form.value ?? '', ...(hosts.length > 0 ? { allowedHosts: hosts } : {}) });
    const errors: FieldErrors = {};
    if (!name.success) errors.name = 'Use upper case letters, digits and underscores (e.g. GITHUB_TOKEN).';
    if (!body.success) {
      const field = String(body.error.issues[0]?.path[0] ?? 'value');
      errors[field] =
        field === 'allowedHosts'
          ? 'Enter hostnames such as api.github.com, separated by commas.'
          : 'Enter the value (at most the size limit).';
    }
    if (!name.success || !body.success)
      return render(c, <CredentialsPage page={page} credentials={await credentialsOf(c)} errors={errors} values={values} />, 400);
    const saved = await putCredential(c.env, {
      workspaceId: page.principal.workspaceId,
      name: name.data,
      value: body.data.value,
      allowedHosts: body.data.allowedHosts ?? null,
      actor: actorOf(c),
      now: now(),
    });
    if (!saved.ok) throw vaultProblemToApiError(saved.problem, c.get('requestId'));
    return render(
      c,
      <CredentialsPage page={page} credentials={await credentialsOf(c)} saved={name.data} />,
      saved.value.created ? 201 : 200,
    );
  });

  router.post('/credentials/:name/delete', signedInPage({ scopes: ['credentials:write'] }), async (c) => {
    const name = CredentialName.safeParse(c.req.param('name'));
    if (!name.success) return c.redirect('/credentials', 303);
    const deleted = await deleteCredential(c.env, {
      workspaceId: pageContext(c, now).principal.workspaceId,
      name: name.data,
      actor: actorOf(c),
      now: now(),
    });
    if (!deleted.ok) throw vaultProblemToApiError(deleted.problem, c.get('requestId'));
    return c.redirect('/credentials', 303);
  });

  return router;
}
