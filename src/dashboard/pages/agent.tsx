import { Hono } from 'hono';
import type { Context } from 'hono';
import { getAgent } from '../../agents';
import type { Clock } from '../../auth';
import { createConnector, CreateConnector, deleteConnector, listConnectors } from '../../connectors';
import type { AppEnv } from '../../env';
import { ApiError } from '../../http';
import { installTools, listTools, removeTool, type InstalledToolViewValue } from '../../tools';
import { vaultProblemToApiError } from '../../vault';
import { CsrfField, Empty, Field, FormError, formatTime, Layout, Select, TextArea, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, problemError, render, type PageContext } from '../page';
import { formOf, signedInPage } from '../session';
import { AgentTabs } from './agent-tabs';
import { ConnectorInstructions } from './connector-instructions';

type AgentValue = Extract<Awaited<ReturnType<typeof getAgent>>, { ok: true }>['value'];
type ConnectorList = Extract<Awaited<ReturnType<typeof listConnectors>>, { ok: true }>['value'];
type Created = { platform: string; webhookUrl: string; secretToken?: string | undefined };

interface AgentPageProps {
  page: PageContext;
  origin: string;
  agent: AgentValue;
  connectors: ConnectorList;
  tools: InstalledToolViewValue[];
  connectorErrors?: FieldErrors;
  toolErrors?: FieldErrors;
  values?: Record<string, string>;
  created?: Created;
}

const PLATFORMS = [
  { value: 'slack', label: 'Slack' },
  { value: 'discord', label: 'Discord' },
  { value: 'telegram', label: 'Telegram' },
];
const APPROVAL_OPTIONS = [
  { value: 'always', label: 'always — every call waits for a person to approve it' },
  { value: 'never', label: 'never — calls run at once' },
];

const AgentPage = (props: AgentPageProps) => {
  const { principal, csrf } = props.page;
  const { agent } = props;
  const base = `/agents/${encodeURIComponent(agent.id)}`;
  const canWrite = principal.scopes.has('agents:write');
  return (
    <Layout title={`Agent: ${agent.name}`} principal={principal} csrf={csrf} section="agents">
      <AgentTabs agentId={agent.id} current="agent" />
      <dl>
        <dt>Id</dt>
        <dd class="mono">{agent.id}</dd>
        <dt>Description</dt>
        <dd>{agent.description || '—'}</dd>
        <dt>Isolation</dt>
        <dd>{agent.isolation}</dd>
        <dt>Model</dt>
        <dd>{agent.model ? `${agent.model.provider} · ${agent.model.model}` : 'none (set one under Settings)'}</dd>
        <dt>Created</dt>
        <dd>{formatTime(agent.createdAt)}</dd>
      </dl>

      <h2 id="connectors">Connectors</h2>
      {props.created ? (
        <div class="notice ok" role="status">
          <p>
            <strong>{`${props.created.platform} connector added.`}</strong> Paste this webhook URL into the platform:
          </p>
          <p class="secret mono">{props.created.webhookUrl}</p>
          {props.created.secretToken ? (
            <>
              <p>Telegram secret token (shown this once; pass it to setWebhook as secret_token):</p>
              <p class="secret mono">{props.created.secretToken}</p>
            </>
          ) : null}
        </div>
      ) : null}
      {props.connectors.length === 0 ? (
        <Empty>No connectors yet. Add one below to let Discord, Slack or Telegram reach this agent.</Empty>
      ) : (
        props.connectors.map((connector) => {
          const url = `${props.origin}${connector.webhookPath}`;
          return (
            <div class="panel">
              <h3>{`${connector.platform} · ${connector.id}`}</h3>
              <p>
                Webhook URL: <code>{url}</code>
              </p>
              <p>
                Secrets (masked):{' '}
                {Object.entries(connector.secrets)
                  .map(([name, masked]) => `${name} ${masked}`)
                  .join(', ') || 'none'}
              </p>
              <details>
                <summary>{`How to connect ${connector.platform}`}</summary>
                <ConnectorInstructions platform={connector.platform} webhookUrl={url} />
              </details>
              {canWrite ? (
                <form method="post" action={`${base}/connectors/${encodeURIComponent(connector.id)}/delete`} class="inline">
                  <CsrfField token={csrf} />
                  <button type="submit" class="danger" aria-label={`Delete connector ${connector.platform} ${connector.id}`}>
                    Delete connector
                  </button>
                </form>
              ) : null}
            </div>
          );
        })
      )}
      {canWrite ? (
        <div class="panel">
          <h3>Add a connector</h3>
          <FormError errors={props.connectorErrors} />
          <form method="post" action={`${base}/connectors`} class="stack">
            <CsrfField token={csrf} />
            <Select name="platform" label="Platform" options={PLATFORMS} value={props.values?.platform} errors={props.connectorErrors} />
            <Field
              name="signingSecret"
              label="Slack signing secret"
              type="password"
              autocomplete="off"
              hint="Slack: Basic Information → App Credentials → Signing Secret."
              errors={props.connectorErrors}
            />
            <Field
              name="applicationId"
              label="Discord application id"
              value={props.values?.applicationId}
              hint="Discord: Developer Portal → General Information → Application ID."
              errors={props.connectorErrors}
            />
            <Field
              name="publicKey"
              label="Discord public key"
              value={props.values?.publicKey}
              hint="Discord: General Information → Public Key (64 hex characters)."
              errors={props.connectorErrors}
            />
            <Field
              name="botToken"
              label="Bot token"
              type="password"
              autocomplete="off"
              hint="Required for Telegram (from @BotFather); optional for Slack (xoxb-…) and Discord. Stored encrypted, shown masked."
              errors={props.connectorErrors}
            />
            <button type="submit">Add connector</button>
          </form>
        </div>
      ) : null}

      <h2 id="tools">Tools</h2>
      {props.tools.length === 0 ? (
        <Empty>No tools installed. Install a manifest below; each call then runs in this agent’s sandbox.</Empty>
      ) : (
        <div class="table-wrap" tabindex={0} role="region" aria-label="Scrollable table">
          <table>
            <thead>
              <tr>
                <th scope="col">Tool</th>
                <th scope="col">Description</th>
                <th scope="col">Capabilities</th>
                <th scope="col">Approval</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {props.tools.map((tool) => (
                <tr>
                  <td>
                    <a href={`${base}/tools/${encodeURIComponent(tool.name)}`}>{tool.name}</a>
                  </td>
                  <td>{tool.description ?? ''}</td>
                  <td class="mono">{tool.capabilities.join(' ')}</td>
                  <td>{tool.approval}</td>
                  <td>{tool.source}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite ? (
        <div class="panel">
          <h3>Install tools</h3>
          <FormError errors={props.toolErrors} />
          <form method="post" action={`${base}/tools`} class="stack">
            <CsrfField token={csrf} />
            <TextArea
              name="manifest"
              label="Manifest (JSON)"
              hint="Paste a tool manifest, or leave this empty and give an https URL below."
              value={props.values?.manifest}
              errors={props.toolErrors}
            />
            <Field
              name="url"
              label="Manifest URL (https)"
              type="url"
              value={props.values?.url}
              hint="Fetched by the gateway with every redirect checked; private addresses are refused."
              errors={props.toolErrors}
            />
            <Select
              name="approval"
              label="Approval for these tools"
              options={APPROVAL_OPTIONS}
              value={props.values?.approval}
              errors={props.toolErrors}
            />
            <button type="submit">Install</button>
          </form>
        </div>
      ) : null}

      {canWrite ? (
        <>
          <h2>Delete this agent</h2>
          <form method="post" action={`${base}/delete`}>
            <CsrfField token={csrf} />
            <p>Deletes the agent, its connectors and their secrets, and its installed tools.</p>
            <button type="submit" class="danger">
              Delete agent
            </button>
          </form>
        </>
      ) : null}
    </Layout>
  );
};

/** An agent's page: connectors (with the exact webhook URL and instructions) and installed tools. */
export function agentDetailPages(deps: { now: Clock; fetch: typeof fetch }) {
  const { now } = deps;
  const router = new Hono<AppEnv>();

  async function props(c: Context<AppEnv>, id: string): Promise<AgentPageProps> {
    const page = pageContext(c, now);
    const agent = await getAgent(c.env, page.principal, id);
    if (!agent.ok) throw problemError(agent.problem);
    const connectors = await listConnectors(c.env, page.principal, id);
    if (!connectors.ok)
      throw 'vaultProblem' in connectors
        ? vaultProblemToApiError(connectors.vaultProblem, c.get('requestId'))
        : problemError(connectors.problem);
    const tools = await listTools(c.env, page.principal, id);
    return { page, origin: new URL(c.req.url).origin, agent: agent.value, connectors: connectors.value, tools };
  }
  const idOf = (c: Context<AppEnv>) => c.req.param('id')?.slice(0, 64) ?? '';

  router.get('/agents/:id', signedInPage({ scopes: ['agents:read'] }), async (c) => render(c, <AgentPage {...await props(c, idOf(c))} />));

  router.post('/agents/:id/connectors', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    const base = await props(c, idOf(c));
    const form = await formOf(c);
    const values = { platform: form.platform ?? '', applicationId: form.applicationId ?? '', publicKey: form.publicKey ?? '' };
    const nonEmpty = (v: string | undefined) => (v && v.trim() !== '' ? v.trim() : undefined);
    const candidate: Record<string, unknown> = { platform: values.platform };
    if (values.platform === 'slack')
      Object.assign(candidate, { signingSecret: form.signingSecret ?? '', botToken: nonEmpty(form.botToken) });
    if (values.platform === 'discord')
      Object.assign(candidate, {
        applicationId: values.applicationId.trim(),
        publicKey: values.publicKey.trim(),
        botToken: nonEmpty(form.botToken),
      });
    if (values.platform === 'telegram') Object.assign(candidate, { botToken: form.botToken ?? '' });
    for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key];
    const parsed = CreateConnector.safeParse(candidate);
    if (!parsed.success) {
      const field = String(parsed.error.issues[0]?.path[0] ?? 'platform');
      const message: Record<string, string> = {
        platform: 'Choose Slack, Discord or Telegram.',
        signingSecret: 'Enter the Slack signing secret (at least 8 characters).',
        applicationId: 'Enter the Discord application id (15 to 22 digits).',
        publicKey: 'Enter the Discord public key: 64 hexadecimal characters of a usable Ed25519 key.',
        botToken: values.platform === 'telegram' ? 'Enter the bot token from @BotFather (123456:ABC…).' : 'The bot token is too long.',
      };
      return render(c, <AgentPage {...base} connectorErrors={{ [field]: message[field] ?? 'Check this field.' }} values={values} />, 400);
    }
    const created = await createConnector(c.env, base.page.principal, { agentId: base.agent.id, body: parsed.data }, now);
    if (!created.ok) {
      const error =
        'vaultProblem' in created ? vaultProblemToApiError(created.vaultProblem, c.get('requestId')) : problemError(created.problem);
      const refused = fieldErrorsOf(error);
      return render(c, <AgentPage {...base} connectorErrors={refused.errors} values={values} />, refused.status);
    }
    const after = await props(c, base.agent.id);
    const webhookUrl = `${after.origin}${created.value.webhookPath}`;
    return render(
      c,
      <AgentPage {...after} created={{ platform: created.value.platform, webhookUrl, secretToken: created.value.secretToken }} />,
      201,
    );
  });

  router.post('/agents/:id/connectors/:cid/delete', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    const page = pageContext(c, now);
    const deleted = await deleteConnector(c.env, page.principal, { agentId: idOf(c), connectorId: c.req.param('cid').slice(0, 64) }, now);
    if (!deleted.ok) throw 'vaultProblem' in deleted ? vaultProblemToApiError(deleted.vaultProblem) : problemError(deleted.problem);
    return c.redirect(`/agents/${encodeURIComponent(idOf(c))}#connectors`, 303);
  });

  router.post('/agents/:id/tools', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    const base = await props(c, idOf(c));
    const form = await formOf(c);
    const values = { manifest: form.manifest ?? '', url: form.url ?? '', approval: form.approval ?? 'always' };
    const approval = values.approval === 'never' ? 'never' : 'always';
    let body: Parameters<typeof installTools>[3];
    if (values.manifest.trim() !== '') {
      let manifest: unknown;
      try {
        manifest = JSON.parse(values.manifest);
      } catch {
        return render(c, <AgentPage {...base} toolErrors={{ manifest: 'The manifest is not valid JSON.' }} values={values} />, 400);
      }
      if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest))
        return render(c, <AgentPage {...base} toolErrors={{ manifest: 'The manifest must be a JSON object.' }} values={values} />, 400);
      const toolNames = Array.isArray((manifest as { tools?: unknown }).tools)
        ? ((manifest as { tools: Array<{ name?: unknown }> }).tools.map((t) => t?.name).filter((n) => typeof n === 'string') as string[])
        : [];
      body = { manifest: manifest as Record<string, unknown>, tools: Object.fromEntries(toolNames.map((n) => [n, { approval }])) };
    } else if (values.url.trim() !== '') {
      if (values.url.length > 2048)
        return render(c, <AgentPage {...base} toolErrors={{ url: 'At most 2,048 characters.' }} values={values} />, 400);
      body = { url: values.url.trim() };
    } else {
      return render(c, <AgentPage {...base} toolErrors={{ manifest: 'Paste a manifest or give its URL.' }} values={values} />, 400);
    }
    try {
      await installTools(c.env, base.page.principal, base.agent.id, body, deps);
    } catch (error) {
      const refused = fieldErrorsOf(error, { manifest: 'manifest', url: 'url', tools: 'manifest' });
      if (error instanceof ApiError && error.code === 'URL_NOT_ALLOWED') refused.errors = { url: error.message };
      return render(c, <AgentPage {...base} toolErrors={refused.errors} values={values} />, refused.status);
    }
    return c.redirect(`/agents/${encodeURIComponent(base.agent.id)}#tools`, 303);
  });

  router.post('/agents/:id/tools/:name/remove', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    await removeTool(c.env, pageContext(c, now).principal, idOf(c), c.req.param('name').slice(0, 64), now);
    return c.redirect(`/agents/${encodeURIComponent(idOf(c))}#tools`, 303);
  });

  return router;
}
