import { Hono } from 'hono';
import { createAgent, deleteAgent, getAgent, listAgents } from '../../agents';
import type { Clock } from '../../auth';
import type { AppEnv } from '../../env';
import { CsrfField, Empty, Field, FormError, formatTime, Layout, Select, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, problemError, render, type PageContext } from '../page';
import { formOf, signedInPage } from '../session';

type AgentList = Extract<Awaited<ReturnType<typeof listAgents>>, { ok: true }>['value'];

export const ISOLATION_OPTIONS = [
  { value: '', label: 'Deployment default (container in production, local sandbox under npm run dev)' },
  { value: 'container', label: 'container — a Cloudflare Container per agent and tool' },
  { value: 'sandbox', label: 'sandbox — the local bubblewrap sandbox' },
  { value: 'unrestricted', label: 'unrestricted — no sandbox (refused unless the deployment allows it)' },
];

const AgentsPage = (props: { page: PageContext; agents: AgentList; errors?: FieldErrors; values?: Record<string, string> }) => {
  const { principal, csrf } = props.page;
  const canWrite = principal.scopes.has('agents:write');
  return (
    <Layout title="Agents" principal={principal} csrf={csrf} section="agents">
      {props.agents.length === 0 ? (
        <Empty>No agents yet. Create one below, then connect it to Discord, Slack or Telegram and install its tools.</Empty>
      ) : (
        <div class="table-wrap" tabindex={0} role="region" aria-label="Scrollable table">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Isolation</th>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {props.agents.map((agent) => (
                <tr>
                  <td>
                    <a href={`/agents/${encodeURIComponent(agent.id)}`}>{agent.name}</a>
                  </td>
                  <td>{agent.isolation}</td>
                  <td>{agent.description}</td>
                  <td>{formatTime(agent.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite ? (
        <>
          <h2>Create an agent</h2>
          <div class="panel">
            <FormError errors={props.errors} />
            <form method="post" action="/agents" class="stack">
              <CsrfField token={csrf} />
              <Field name="name" label="Name" required maxlength={100} value={props.values?.name} errors={props.errors} />
              <Field name="description" label="Description" maxlength={1000} value={props.values?.description} errors={props.errors} />
              <Select
                name="isolation"
                label="Isolation"
                options={ISOLATION_OPTIONS}
                value={props.values?.isolation}
                errors={props.errors}
              />
              <button type="submit">Create agent</button>
            </form>
          </div>
        </>
      ) : null}
    </Layout>
  );
};

/** Agents: list, create, delete (rules in src/agents/agents.ts). The agent's own page is agent.tsx. */
export function agentPages(now: Clock) {
  const router = new Hono<AppEnv>();
  const agentsOf = async (page: PageContext, env: AppEnv['Bindings']) => {
    const listed = await listAgents(env, page.principal);
    if (!listed.ok) throw problemError(listed.problem);
    return listed.value;
  };

  router.get('/agents', signedInPage({ scopes: ['agents:read'] }), async (c) => {
    const page = pageContext(c, now);
    return render(c, <AgentsPage page={page} agents={await agentsOf(page, c.env)} />);
  });

  router.post('/agents', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    const page = pageContext(c, now);
    const form = await formOf(c);
    const values = { name: form.name ?? '', description: form.description ?? '', isolation: form.isolation ?? '' };
    const name = values.name.trim();
    const errors: FieldErrors = {};
    if (name.length < 1 || name.length > 100) errors.name = 'Enter a name of 1 to 100 characters.';
    if (values.description.length > 1000) errors.description = 'At most 1,000 characters.';
    const isolation = values.isolation === '' ? undefined : values.isolation;
    if (isolation !== undefined && !['container', 'sandbox', 'unrestricted'].includes(isolation))
      errors.isolation = 'Choose an isolation level.';
    if (Object.keys(errors).length > 0)
      return render(c, <AgentsPage page={page} agents={await agentsOf(page, c.env)} errors={errors} values={values} />, 400);
    const created = await createAgent(
      c.env,
      page.principal,
      { name, description: values.description, ...(isolation ? { isolation: isolation as 'container' | 'sandbox' | 'unrestricted' } : {}) },
      now,
    );
    if (!created.ok) {
      const refused = fieldErrorsOf(problemError(created.problem), { isolation: 'isolation', name: 'name' });
      if (created.problem.kind === 'policy-denied') refused.errors = { isolation: created.problem.message };
      return render(
        c,
        <AgentsPage page={page} agents={await agentsOf(page, c.env)} errors={refused.errors} values={values} />,
        refused.status,
      );
    }
    return c.redirect(`/agents/${encodeURIComponent(created.value.id)}`, 303);
  });

  router.post('/agents/:id/delete', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    const page = pageContext(c, now);
    const id = c.req.param('id').slice(0, 64);
    const agent = await getAgent(c.env, page.principal, id);
    if (!agent.ok) throw problemError(agent.problem);
    const deleted = await deleteAgent(c.env, page.principal, id, now);
    if (!deleted.ok) throw problemError(deleted.problem);
    return c.redirect('/agents', 303);
  });

  return router;
}
