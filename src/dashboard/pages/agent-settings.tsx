import { Hono } from 'hono';
import type { Context } from 'hono';
import { updateAgent } from '../../agents';
import type { Clock } from '../../auth';
import { DEFAULT_TURN_LIMITS } from '../../conversations';
import type { AppEnv } from '../../env';
import { EXFILTRATION_MODES, GUARD_MODES } from '../../guards';
import { MODEL_PROVIDERS } from '../../models';
import { listCredentials, vaultProblemToApiError } from '../../vault';
import { CsrfField, Field, FormError, Layout, Select, TextArea, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, problemError, render, type PageContext } from '../page';
import { formOf, signedInPage } from '../session';
import { FIELD_OF_PATH, formValuesOf, GUARD_FIELDS, LIMIT_FIELDS, updateFromForm } from './agent-settings-form';
import { agentOfPage, type AgentValue as Agent } from './agent-of-page';
import { ISOLATION_OPTIONS } from './agents';
import { AgentTabs } from './agent-tabs';

interface SettingsPageProps {
  page: PageContext;
  agent: Agent;
  credentialNames: string[];
  values: Record<string, string>;
  errors?: FieldErrors;
  saved?: { note?: string | undefined };
}

const GUARD_HINTS = {
  injection: 'Prompt-injection check on inbound text and tool output.',
  secrets: 'Secret scanning of inbound text and replies.',
  output: 'Reply filter: mass mentions, raw HTML, images to unknown hosts.',
} as const;
const options = (values: readonly string[]) => values.map((value) => ({ value, label: value }));

const SettingsPage = (props: SettingsPageProps) => {
  const { principal, csrf } = props.page;
  const { agent, values, errors } = props;
  const canWrite = principal.scopes.has('agents:write');
  // A stored credential that was deleted since stays selectable, so the form shows what is stored (saving then says it is gone).
  const names =
    values.modelCredential && !props.credentialNames.includes(values.modelCredential)
      ? [...props.credentialNames, values.modelCredential]
      : props.credentialNames;
  return (
    <Layout title={`Settings: ${agent.name}`} principal={principal} csrf={csrf} section="agents">
      <AgentTabs agentId={agent.id} current="settings" />
      {props.saved ? (
        <div class="notice ok" role="status">
          <p>Settings saved. They apply from the agent’s next turn.</p>
          {props.saved.note ? <p>{props.saved.note}</p> : null}
        </div>
      ) : null}
      <FormError errors={errors} />
      <form method="post" action={`/agents/${encodeURIComponent(agent.id)}/settings`} class="stack">
        <CsrfField token={csrf} />
        <fieldset>
          <legend>Isolation</legend>
          <Select
            name="isolation"
            label="Isolation level"
            options={ISOLATION_OPTIONS.filter((o) => o.value !== '')}
            value={values.isolation}
            errors={errors}
          />
        </fieldset>
        <fieldset>
          <legend>Model</legend>
          <Select
            name="modelProvider"
            label="Provider"
            options={[{ value: '', label: 'none — the agent does not answer' }, ...options(MODEL_PROVIDERS)]}
            value={values.modelProvider}
            errors={errors}
          />
          <Field
            name="modelName"
            label="Model"
            maxlength={128}
            value={values.modelName}
            hint="As the provider names it, e.g. gpt-4o-mini or claude-sonnet-4."
            errors={errors}
          />
          <Field
            name="modelBaseUrl"
            label="Base URL"
            type="url"
            value={values.modelBaseUrl}
            hint="https and public (or a host:port in MODEL_PRIVATE_HOSTS). Required for openai-compatible; anthropic defaults to https://api.anthropic.com/v1."
            errors={errors}
          />
          <Select
            name="modelCredential"
            label="API key credential"
            options={[{ value: '', label: 'none — no key is sent' }, ...options(names)]}
            value={values.modelCredential}
            hint="A credential of this workspace (Credentials page). The key stays in the vault: it is never shown here."
            errors={errors}
          />
        </fieldset>
        <fieldset>
          <legend>Guards</legend>
          {(['injection', 'secrets', 'output'] as const).map((guard) => (
            <Select
              name={GUARD_FIELDS[guard]}
              label={`${guard[0]?.toUpperCase()}${guard.slice(1)} guard`}
              options={options(GUARD_MODES)}
              value={values[GUARD_FIELDS[guard]]}
              hint={`${GUARD_HINTS[guard]} warn records a verdict only; block enforces.`}
              errors={errors}
            />
          ))}
          <Select
            name={GUARD_FIELDS.exfiltration}
            label="Exfiltration guard"
            options={options(EXFILTRATION_MODES)}
            value={values[GUARD_FIELDS.exfiltration]}
            hint="Once a turn saw untrusted content, its egress tools are withheld or need a person’s approval."
            errors={errors}
          />
          {agent.guards.classifier ? (
            <p>{`Classifier model: ${agent.guards.classifier.provider} ${agent.guards.classifier.model} (kept; change it through the API).`}</p>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>Limits per turn</legend>
          {Object.entries(LIMIT_FIELDS).map(([name, limit]) => (
            <Field
              name={limit.field}
              label={limit.label}
              type="number"
              min={limit.min}
              max={limit.max}
              value={values[limit.field]}
              placeholder={`default ${DEFAULT_TURN_LIMITS[name as keyof typeof DEFAULT_TURN_LIMITS]}`}
              errors={errors}
            />
          ))}
        </fieldset>
        <fieldset>
          <legend>Instructions</legend>
          <TextArea name="systemPrompt" label="System prompt" rows={6} value={values.systemPrompt} errors={errors} />
        </fieldset>
        {canWrite ? <button type="submit">Save settings</button> : <p>You can read these settings; changing them needs agents:write.</p>}
      </form>
    </Layout>
  );
};

/** An agent's settings: isolation, model, guards, limits (PATCH /api/v1/agents/:id's updateAgent, src/agents/agents.ts). */
export function agentSettingsPages(now: Clock) {
  const router = new Hono<AppEnv>();

  async function load(c: Context<AppEnv>) {
    const page = pageContext(c, now);
    const agent = await agentOfPage(c, page);
    const credentials = await listCredentials(c.env, page.principal.workspaceId);
    if (!credentials.ok) throw vaultProblemToApiError(credentials.problem, c.get('requestId'));
    return { page, agent, credentialNames: credentials.value.map((credential) => credential.name) };
  }

  router.get('/agents/:id/settings', signedInPage({ scopes: ['agents:read'] }), async (c) => {
    const loaded = await load(c);
    return render(c, <SettingsPage {...loaded} values={formValuesOf(loaded.agent)} />);
  });

  router.post('/agents/:id/settings', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    const loaded = await load(c);
    const form = await formOf(c);
    const values = { ...formValuesOf(loaded.agent), ...form };
    const parsed = updateFromForm(loaded.agent, form);
    if (!parsed.ok) return render(c, <SettingsPage {...loaded} values={values} errors={parsed.errors} />, 400);
    const updated = await updateAgent(c.env, loaded.page.principal, { id: loaded.agent.id, changes: parsed.body }, now);
    if (!updated.ok) {
      const refused = fieldErrorsOf(problemError(updated.problem), FIELD_OF_PATH);
      if (updated.problem.kind === 'policy-denied') refused.errors = { isolation: updated.problem.message };
      return render(c, <SettingsPage {...loaded} values={values} errors={refused.errors} />, refused.status);
    }
    return render(
      c,
      <SettingsPage {...loaded} agent={updated.value} values={formValuesOf(updated.value)} saved={{ note: updated.value.note }} />,
    );
  });

  return router;
}
