import { Hono } from 'hono';
import type { Clock } from '../../auth';
import { agentUsage } from '../../conversations';
import type { AppEnv } from '../../env';
import { Empty, Layout } from '../layout';
import { pageContext, problemError, render, type PageContext } from '../page';
import { signedInPage } from '../session';
import { agentOfPage, type AgentValue as Agent } from './agent-of-page';
import { AgentTabs } from './agent-tabs';
import { calendarDays, UsageChart, type UsageDay } from './usage-chart';

/** The windows the page offers (days, ending today UTC); the API takes any 1–366. */
export const USAGE_WINDOWS = [7, 30, 90] as const;
const DEFAULT_WINDOW = 30;

const n = (value: number) => value.toLocaleString('en-US');

const UsagePage = (props: { page: PageContext; agent: Agent; window: number; days: UsageDay[] }) => {
  const { principal, csrf } = props.page;
  const base = `/agents/${encodeURIComponent(props.agent.id)}/usage`;
  const used = props.days.filter((d) => d.turns > 0);
  return (
    <Layout title={`Usage: ${props.agent.name}`} principal={principal} csrf={csrf} section="agents">
      <AgentTabs agentId={props.agent.id} current="usage" />
      <nav aria-label="Period" class="pager">
        {USAGE_WINDOWS.map((days) => (
          <a href={`${base}?days=${days}`} aria-current={days === props.window ? 'page' : undefined}>
            {`Last ${days} days`}
          </a>
        ))}
      </nav>
      {used.length === 0 ? (
        <Empty>{`No turns in the last ${props.window} days. Usage appears here once the agent answers a message.`}</Empty>
      ) : (
        <>
          <figure class="chart-figure">
            <UsageChart days={props.days} id="usage-chart" />
            <figcaption>
              <span class="key input">Input tokens</span> <span class="key output">Output tokens</span> per UTC day.
            </figcaption>
          </figure>
          <div class="table-wrap" tabindex={0} role="region" aria-label="Usage per day">
            <table>
              <caption>The chart’s figures: days with turns, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  <th scope="col">Turns</th>
                  <th scope="col">Input tokens</th>
                  <th scope="col">Output tokens</th>
                  <th scope="col">Tool calls</th>
                  <th scope="col">Model steps</th>
                  <th scope="col">Time (s)</th>
                </tr>
              </thead>
              <tbody>
                {[...used].reverse().map((d) => (
                  <tr>
                    <th scope="row">{d.day}</th>
                    <td>{n(d.turns)}</td>
                    <td>{n(d.inputTokens)}</td>
                    <td>{n(d.outputTokens)}</td>
                    <td>{n(d.toolCalls)}</td>
                    <td>{n(d.steps)}</td>
                    <td>{(d.durationMs / 1000).toFixed(1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
};

/** An agent's usage per UTC day: a chart and its table (GET /api/v1/agents/:id/usage's agentUsage). */
export function usagePages(now: Clock) {
  const router = new Hono<AppEnv>();
  router.get('/agents/:id/usage', signedInPage({ scopes: ['agents:read'] }), async (c) => {
    const page = pageContext(c, now);
    const agent = await agentOfPage(c, page);
    const asked = Number(c.req.query('days'));
    const window = (USAGE_WINDOWS as readonly number[]).includes(asked) ? asked : DEFAULT_WINDOW;
    const usage = await agentUsage({ env: c.env }, page.principal, agent.id, window);
    if (!usage.ok) throw problemError(usage.problem);
    return render(c, <UsagePage page={page} agent={agent} window={window} days={calendarDays(usage.value.days, page.now, window)} />);
  });
  return router;
}
