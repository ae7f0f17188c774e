import { Hono } from 'hono';
import { createApiKey, listApiKeys, revokeApiKey, SCOPES, type Clock, type Scope } from '../../auth';
import type { AppEnv } from '../../env';
import { CsrfField, Empty, Field, FormError, formatTime, Layout, type FieldErrors } from '../layout';
import { fieldErrorsOf, optionalInt, pageContext, problemError, render, type PageContext } from '../page';
import { formOf, formValues, signedInPage } from '../session';

const SCOPE_HINTS: Record<Scope, string> = {
  'agents:read': 'read agents, connectors, tools and credentials (masked)',
  'agents:write': 'create and change agents, connectors and tools',
  'credentials:write': 'store and delete credentials',
  'tools:invoke': 'call tools (an agent’s key; never together with approvals:decide or admin)',
  'approvals:decide': 'approve or deny pending calls',
  'audit:read': 'read, export and verify the audit log',
  admin: 'members, workspace keys, vault rotation',
} as Record<Scope, string>;

type KeyView = Awaited<ReturnType<typeof listApiKeys>> extends { ok: true; value: infer V } | { ok: false } ? V : never;

const KeysPage = (props: {
  page: PageContext;
  keys: KeyView;
  errors?: FieldErrors;
  created?: { name: string; key: string } | undefined;
}) => {
  const { principal, csrf, now } = props.page;
  const live = props.keys.filter((key) => key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now));
  return (
    <Layout title="API keys" principal={principal} csrf={csrf} section="keys">
      {props.created ? (
        <div class="notice warn" role="status">
          <p>
            <strong>{`Key “${props.created.name}” created.`}</strong> Copy it now: it is shown this once and never again (only its hash is
            stored).
          </p>
          <p class="secret mono" aria-label="The new API key">
            {props.created.key}
          </p>
          <p>
            Use it as <code>Authorization: Bearer &lt;key&gt;</code>.
          </p>
        </div>
      ) : null}
      <h2>Your keys</h2>
      {live.length === 0 ? (
        <Empty>No live API keys yet. Create one below for an agent, the CLI or an integration.</Empty>
      ) : (
        <div class="table-wrap" tabindex={0} role="region" aria-label="Scrollable table">
          <table>
            <caption class="skip">Live API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Scopes</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {live.map((key) => (
                <tr>
                  <td>{key.name}</td>
                  <td class="mono">{`${key.prefix}…${key.last4}`}</td>
                  <td>{key.scopes.join(', ')}</td>
                  <td>{key.expiresAt === null ? 'never' : formatTime(key.expiresAt)}</td>
                  <td>{formatTime(key.lastUsedAt)}</td>
                  <td>
                    <form method="post" action={`/keys/${encodeURIComponent(key.id)}/revoke`} class="inline">
                      <CsrfField token={csrf} />
                      <button type="submit" class="danger" aria-label={`Revoke key ${key.name}`}>
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2 id="create">Create a key</h2>
      <div class="panel">
        <FormError errors={props.errors} />
        <form method="post" action="/keys" class="stack">
          <CsrfField token={csrf} />
          <Field name="name" label="Name" required maxlength={100} hint="What uses it, e.g. “support-bot”." errors={props.errors} />
          <fieldset aria-describedby={props.errors?.scopes ? 'f-scopes-error' : undefined}>
            <legend>Scopes (at most your own)</legend>
            {props.errors?.scopes ? (
              <p class="error" id="f-scopes-error">
                {props.errors.scopes}
              </p>
            ) : null}
            <div class="checks">
              {SCOPES.filter((scope) => principal.scopes.has(scope)).map((scope) => (
                <label>
                  <input type="checkbox" name="scopes" value={scope} /> <code>{scope}</code> — {SCOPE_HINTS[scope] ?? ''}
                </label>
              ))}
            </div>
          </fieldset>
          <Field
            name="expiresInDays"
            label="Expires after (days)"
            type="number"
            min={1}
            max={3650}
            hint="Leave empty for a key that does not expire."
            errors={props.errors}
          />
          <button type="submit">Create key</button>
        </form>
      </div>
    </Layout>
  );
};

/** API keys: create (shown once), list, revoke (rules in src/auth/api-keys.ts). */
export function keyPages(now: Clock) {
  const router = new Hono<AppEnv>();
  const keysOf = async (c: Parameters<typeof pageContext>[0]) => {
    const listed = await listApiKeys(c.env, pageContext(c, now).principal);
    if (!listed.ok) throw problemError(listed.problem);
    return listed.value;
  };

  router.get('/keys', signedInPage(), async (c) => render(c, <KeysPage page={pageContext(c, now)} keys={await keysOf(c)} />));

  router.post('/keys', signedInPage(), async (c) => {
    const page = pageContext(c, now);
    const form = await formOf(c);
    const scopes = (await formValues(c, 'scopes')).filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
    const name = (form.name ?? '').trim();
    const expiresInDays = optionalInt(form.expiresInDays);
    const errors: FieldErrors = {};
    if (name.length < 1 || name.length > 100) errors.name = 'Enter a name of 1 to 100 characters.';
    if (scopes.length === 0) errors.scopes = 'Choose at least one scope.';
    if (expiresInDays !== undefined && !(expiresInDays >= 1 && expiresInDays <= 3650))
      errors.expiresInDays = 'Enter a whole number of days from 1 to 3650.';
    if (Object.keys(errors).length > 0) return render(c, <KeysPage page={page} keys={await keysOf(c)} errors={errors} />, 400);
    const created = await createApiKey(c.env, page.principal, { name, scopes, expiresInDays }, now);
    if (!created.ok) {
      const refused = fieldErrorsOf(problemError(created.problem), { scopes: 'scopes' });
      return render(c, <KeysPage page={page} keys={await keysOf(c)} errors={refused.errors} />, refused.status);
    }
    return render(c, <KeysPage page={page} keys={await keysOf(c)} created={{ name, key: created.value.key }} />, 201);
  });

  router.post('/keys/:id/revoke', signedInPage(), async (c) => {
    const revoked = await revokeApiKey(c.env, pageContext(c, now).principal, c.req.param('id').slice(0, 64), now);
    if (!revoked.ok) throw problemError(revoked.problem);
    return c.redirect('/keys', 303);
  });

  return router;
}
