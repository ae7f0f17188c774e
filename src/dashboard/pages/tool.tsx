import { Hono } from 'hono';
import type { Context } from 'hono';
import { agentInWorkspace } from '../../agents';
import type { Clock } from '../../auth';
import { createDb } from '../../db';
import type { AppEnv } from '../../env';
import { compileManifest, TARGETS, type Target } from '../../policy';
import { callerOf, findInstalledTool, installedToolView, invokeTool, operatorAllowFrom, type InvokeContext } from '../../tools';
import { requireVault } from '../../vault';
import { CsrfField, FormError, Layout, prettyJson, TextArea, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, render, type PageContext } from '../page';
import { ApiError } from '../../http';
import { formOf, signedInPage } from '../session';

interface ToolPageProps {
  page: PageContext;
  agent: { id: string; name: string };
  tool: ReturnType<typeof installedToolView>;
  target: Target;
  compiled: string;
  errors?: FieldErrors;
  args?: string;
}

const ToolPage = (props: ToolPageProps) => {
  const { principal, csrf } = props.page;
  const base = `/agents/${encodeURIComponent(props.agent.id)}/tools/${encodeURIComponent(props.tool.name)}`;
  return (
    <Layout title={`Tool: ${props.tool.name}`} principal={principal} csrf={csrf} section="agents">
      <p>
        <a href={`/agents/${encodeURIComponent(props.agent.id)}#tools`}>{`← Agent ${props.agent.name}`}</a>
      </p>
      <dl>
        <dt>Description</dt>
        <dd>{props.tool.description ?? '—'}</dd>
        <dt>Manifest</dt>
        <dd>{`${props.tool.manifest.name} ${props.tool.manifest.version} (${props.tool.source})`}</dd>
        <dt>Provenance</dt>
        <dd class="mono">{props.tool.provenance}</dd>
        <dt>Declared capabilities</dt>
        <dd class="mono">{props.tool.capabilities.join(' ') || 'none'}</dd>
        <dt>Approval</dt>
        <dd>{props.tool.approval}</dd>
      </dl>
      <h2>Compiled policy</h2>
      <nav aria-label="Sandbox targets">
        <ul class="pager">
          {TARGETS.map((target) => (
            <li>
              <a href={`${base}?target=${target}`} aria-current={target === props.target ? 'page' : undefined}>
                {target}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <pre aria-label={`Compiled policy for ${props.target}`}>{props.compiled}</pre>
      {principal.scopes.has('tools:invoke') ? (
        <>
          <h2>Call it</h2>
          <div class="panel">
            <p>A call you make here waits for someone else’s approval when the tool needs one: nobody approves their own call.</p>
            <FormError errors={props.errors} />
            <form method="post" action={`${base}/invoke`} class="stack">
              <CsrfField token={csrf} />
              <TextArea name="arguments" label="Arguments (JSON object)" rows={4} value={props.args ?? '{}'} errors={props.errors} />
              <button type="submit">Call tool</button>
            </form>
          </div>
        </>
      ) : null}
      {principal.scopes.has('agents:write') ? (
        <form method="post" action={`${base}/remove`}>
          <CsrfField token={csrf} />
          <button type="submit" class="danger">
            Remove tool
          </button>
        </form>
      ) : null}
    </Layout>
  );
};

/** One installed tool: its compiled policy per sandbox target, a call form, removal. */
export function toolPages(deps: { now: Clock; fetch: typeof fetch }) {
  const { now } = deps;
  const router = new Hono<AppEnv>();

  async function load(c: Context<AppEnv>) {
    const page = pageContext(c, now);
    const db = createDb(c.env.DB);
    // A foreign agent looks missing (DESIGN.md "Tenancy").
    const agent = await agentInWorkspace(db, page.principal.workspaceId, c.req.param('id')?.slice(0, 64) ?? '');
    if (!agent) throw new ApiError('NOT_FOUND');
    const row = await findInstalledTool(db, agent.id, c.req.param('name')?.slice(0, 64) ?? '');
    return { page, agent, row, db };
  }

  function propsOf(loaded: Awaited<ReturnType<typeof load>>, targetParam: string | undefined, env: AppEnv['Bindings']): ToolPageProps {
    const target = (TARGETS as readonly string[]).includes(targetParam ?? '') ? (targetParam as Target) : 'bwrap';
    const result = compileManifest(loaded.row.manifest, {
      target,
      tool: loaded.row.name,
      privateAllowed: operatorAllowFrom(env.TOOL_OPERATOR_ALLOW),
    });
    const compiled = result.ok ? prettyJson(result.artifact) : `Compile error ${result.error.code} at ${result.error.path}`;
    return { page: loaded.page, agent: loaded.agent, tool: installedToolView(loaded.row), target, compiled };
  }

  router.get('/agents/:id/tools/:name', signedInPage({ scopes: ['agents:read'] }), async (c) =>
    render(c, <ToolPage {...propsOf(await load(c), c.req.query('target'), c.env)} />),
  );

  router.post('/agents/:id/tools/:name/invoke', signedInPage({ scopes: ['tools:invoke'] }), async (c) => {
    const loaded = await load(c);
    const form = await formOf(c);
    const text = form.arguments ?? '{}';
    const props = propsOf(loaded, undefined, c.env);
    let args: unknown;
    try {
      args = JSON.parse(text);
    } catch {
      return render(c, <ToolPage {...props} args={text} errors={{ arguments: 'The arguments are not valid JSON.' }} />, 400);
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args))
      return render(c, <ToolPage {...props} args={text} errors={{ arguments: 'The arguments must be a JSON object.' }} />, 400);
    const requestId = c.get('requestId');
    const ctx: InvokeContext = {
      env: c.env,
      db: loaded.db,
      now,
      fetch: deps.fetch,
      requestId,
      openVault: () => requireVault(c.env, requestId),
    };
    try {
      const outcome = await invokeTool(ctx, callerOf(loaded.page.principal), loaded.agent, loaded.row, args as Record<string, unknown>);
      const id = outcome.status === 'pending_approval' ? outcome.invocationId : outcome.result.id;
      return c.redirect(`/invocations/${encodeURIComponent(id)}`, 303);
    } catch (error) {
      const refused = fieldErrorsOf(error, { arguments: 'arguments' });
      return render(c, <ToolPage {...props} args={text} errors={refused.errors} />, refused.status);
    }
  });

  return router;
}
