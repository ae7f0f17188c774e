import type { Context } from 'hono';
import { getAgent } from '../../agents';
import type { AppEnv } from '../../env';
import { problemError, type PageContext } from '../page';

/** An agent as its pages show it (getAgent's view, the same as GET /api/v1/agents/:id). */
export type AgentValue = Extract<Awaited<ReturnType<typeof getAgent>>, { ok: true }>['value'];

/** The `:id` of an agent's page, cut to the longest id the API accepts. */
export const agentIdOf = (c: Context<AppEnv>): string => c.req.param('id')?.slice(0, 64) ?? '';

/** The page's agent in the signed-in workspace; a foreign or missing one is the same 404 page. */
export async function agentOfPage(c: Context<AppEnv>, page: PageContext): Promise<AgentValue> {
  const agent = await getAgent(c.env, page.principal, agentIdOf(c));
  if (!agent.ok) throw problemError(agent.problem);
  return agent.value;
}
