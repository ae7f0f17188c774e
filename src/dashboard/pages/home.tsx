import { Hono } from 'hono';
import { listAgents } from '../../agents';
import { setupNeeded, type Clock } from '../../auth';
import type { AppEnv } from '../../env';
import { listPendingApprovals } from '../../tools';
import { Layout } from '../layout';
import { pageContext, render, type PageContext } from '../page';
import { signedInPage } from '../session';

const HomePage = (props: { page: PageContext; agents: number | null; pending: number | null }) => {
  const { principal, csrf } = props.page;
  return (
    <Layout title="Overview" principal={principal} csrf={csrf} section="home">
      <p>{`Signed in as ${principal.email} (${principal.role}).`}</p>
      {props.pending ? (
        <div class="notice warn" role="status">
          <a href="/approvals">{`${props.pending} call(s) waiting for approval`}</a>
        </div>
      ) : null}
      <h2>Getting started</h2>
      <ol class="steps">
        <li>
          <a href="/agents">Create an agent</a>
          {props.agents ? ` (you have ${props.agents})` : ''}.
        </li>
        <li>On the agent’s page, add a Slack, Discord or Telegram connector and paste its webhook URL into the platform.</li>
        <li>Install a tool manifest on the agent; choose approval “always” for anything that changes the world.</li>
        <li>
          <a href="/keys">Create an API key</a> with <code>tools:invoke</code> for the agent’s runtime or integration.
        </li>
        <li>
          Approve or deny its calls under <a href="/approvals">Approvals</a>, and read everything in the <a href="/audit">audit log</a>.
        </li>
      </ol>
    </Layout>
  );
};

/** `/`: first-time setup when nobody owns the deployment yet, else the overview. */
export function homePages(now: Clock) {
  const router = new Hono<AppEnv>();
  router.get('/', async (c, next) => ((await setupNeeded(c.env.DB)) ? c.redirect('/setup', 303) : next()));
  router.get('/', signedInPage(), async (c) => {
    const page = pageContext(c, now);
    const agents = page.principal.scopes.has('agents:read') ? await listAgents(c.env, page.principal) : null;
    const canSeeApprovals = ['tools:invoke', 'approvals:decide'].some((s) => page.principal.scopes.has(s as 'tools:invoke'));
    const pending = canSeeApprovals ? (await listPendingApprovals(c.env, page.principal.workspaceId, now)).length : null;
    return render(c, <HomePage page={page} agents={agents?.ok ? agents.value.length : null} pending={pending} />);
  });
  return router;
}
