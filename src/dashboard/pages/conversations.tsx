import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Clock } from '../../auth';
import { deleteConversation, getConversation, listAgentConversations } from '../../conversations';
import type { AppEnv } from '../../env';
import { CsrfField, Empty, formatTime, Layout } from '../layout';
import { pageContext, problemError, render, type PageContext } from '../page';
import { signedInPage } from '../session';
import { agentIdOf, agentOfPage, type AgentValue as Agent } from './agent-of-page';
import { AgentTabs } from './agent-tabs';

type ConversationPage = Extract<Awaited<ReturnType<typeof listAgentConversations>>, { ok: true }>['value'];
type Conversation = Extract<Awaited<ReturnType<typeof getConversation>>, { ok: true }>['value'];

/** Conversations per dashboard page. */
export const CONVERSATIONS_PER_PAGE = 25;

const ROLE_LABELS: Record<Conversation['messages'][number]['role'], string> = {
  user: 'User',
  assistant: 'Agent',
  tool: 'Tool',
  system: 'System',
};

const ListPage = (props: { page: PageContext; agent: Agent; listed: ConversationPage; paged: boolean }) => {
  const { principal, csrf } = props.page;
  const base = `/agents/${encodeURIComponent(props.agent.id)}/conversations`;
  return (
    <Layout title={`Conversations: ${props.agent.name}`} principal={principal} csrf={csrf} section="agents">
      <AgentTabs agentId={props.agent.id} current="conversations" />
      <p>Most recent first. Transcripts are shown with the workspace’s secrets and token shapes redacted.</p>
      {props.listed.conversations.length === 0 ? (
        <Empty>
          {props.paged
            ? 'No more conversations.'
            : 'No conversations yet. They start when someone messages this agent over a connector or POST /api/v1/agents/:id/messages.'}
        </Empty>
      ) : (
        <div class="table-wrap" tabindex={0} role="region" aria-label="Conversations">
          <table>
            <thead>
              <tr>
                <th scope="col">Conversation</th>
                <th scope="col">Channel</th>
                <th scope="col">Started</th>
                <th scope="col">Last activity</th>
              </tr>
            </thead>
            <tbody>
              {props.listed.conversations.map((conversation) => (
                <tr>
                  <td>
                    <a class="mono" href={`${base}/${encodeURIComponent(conversation.id)}`}>
                      {conversation.id}
                    </a>
                  </td>
                  <td>{conversation.channel}</td>
                  <td>{formatTime(conversation.createdAt)}</td>
                  <td>{formatTime(conversation.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav aria-label="Pages" class="pager">
        {props.paged ? <a href={base}>First page</a> : null}
        {props.listed.nextCursor ? <a href={`${base}?cursor=${encodeURIComponent(props.listed.nextCursor)}`}>Older conversations</a> : null}
      </nav>
    </Layout>
  );
};

const TranscriptPage = (props: { page: PageContext; agent: Agent; conversation: Conversation }) => {
  const { principal, csrf } = props.page;
  const { conversation } = props;
  const base = `/agents/${encodeURIComponent(props.agent.id)}/conversations`;
  return (
    <Layout title={`Conversation with ${props.agent.name}`} principal={principal} csrf={csrf} section="agents">
      <AgentTabs agentId={props.agent.id} current="conversations" />
      <p>
        <a href={base}>{`← Conversations of ${props.agent.name}`}</a>
      </p>
      <dl>
        <dt>Id</dt>
        <dd class="mono">{conversation.id}</dd>
        <dt>Channel</dt>
        <dd>{conversation.channel}</dd>
        <dt>Started</dt>
        <dd>{formatTime(conversation.createdAt)}</dd>
        <dt>Last activity</dt>
        <dd>{formatTime(conversation.updatedAt)}</dd>
      </dl>
      {conversation.pendingApprovalId ? (
        <div class="notice" role="status">
          This conversation waits for an approval: <a href="/approvals">{`decide ${conversation.pendingApprovalId}`}</a>.
        </div>
      ) : null}
      <h2>Transcript (redacted)</h2>
      {conversation.messages.length === 0 ? (
        <Empty>No messages kept (a compacted or new conversation).</Empty>
      ) : (
        <ol class="transcript">
          {conversation.messages.map((message) => (
            <li class={`message ${message.role}`}>
              <p class="role">{ROLE_LABELS[message.role]}</p>
              {message.text !== undefined ? <p class="text">{message.text}</p> : null}
              {(message.toolCalls ?? []).map((call) => (
                <>
                  <p>{`Calls tool ${call.tool} with:`}</p>
                  <pre>{call.arguments}</pre>
                </>
              ))}
              {message.toolResult ? (
                <>
                  <p>{`Output of ${message.toolResult.tool}:`}</p>
                  <pre>{message.toolResult.output}</pre>
                </>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      {principal.scopes.has('agents:write') ? (
        <form method="post" action={`${base}/${encodeURIComponent(conversation.id)}/delete`}>
          <CsrfField token={csrf} />
          <p>Deletes the transcript and the conversation; the audit log keeps its events.</p>
          <button type="submit" class="danger">
            Delete conversation
          </button>
        </form>
      ) : null}
    </Layout>
  );
};

/** An agent's conversations: the list (paged), one redacted transcript, delete (src/conversations/conversations.ts). */
export function conversationPages(now: Clock) {
  const router = new Hono<AppEnv>();
  const cidOf = (c: Context<AppEnv>) => c.req.param('cid')?.slice(0, 64) ?? '';

  router.get('/agents/:id/conversations', signedInPage({ scopes: ['agents:read'] }), async (c) => {
    const page = pageContext(c, now);
    const agent = await agentOfPage(c, page);
    const cursor = c.req.query('cursor');
    const listed = await listAgentConversations({ env: c.env }, page.principal, agent.id, { cursor, limit: CONVERSATIONS_PER_PAGE });
    if (!listed.ok) throw problemError(listed.problem);
    return render(c, <ListPage page={page} agent={agent} listed={listed.value} paged={cursor !== undefined} />);
  });

  router.get('/agents/:id/conversations/:cid', signedInPage({ scopes: ['agents:read'] }), async (c) => {
    const page = pageContext(c, now);
    const agent = await agentOfPage(c, page);
    const conversation = await getConversation({ env: c.env }, page.principal, agent.id, cidOf(c));
    if (!conversation.ok) throw problemError(conversation.problem);
    return render(c, <TranscriptPage page={page} agent={agent} conversation={conversation.value} />);
  });

  router.post('/agents/:id/conversations/:cid/delete', signedInPage({ scopes: ['agents:write'] }), async (c) => {
    const page = pageContext(c, now);
    const deleted = await deleteConversation({ env: c.env }, page.principal, agentIdOf(c), cidOf(c));
    if (!deleted.ok) throw problemError(deleted.problem);
    return c.redirect(`/agents/${encodeURIComponent(agentIdOf(c))}/conversations`, 303);
  });

  return router;
}
