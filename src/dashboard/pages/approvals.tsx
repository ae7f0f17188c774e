import { Hono } from 'hono';
import type { Context } from 'hono';
import { listAgents } from '../../agents';
import type { Clock } from '../../auth';
import { createDb } from '../../db';
import type { AppEnv } from '../../env';
import { ApiError, waitUntilOf } from '../../http';
import {
  decideApproval,
  invocationInWorkspace,
  invocationView,
  listPendingApprovals,
  type ApprovalHook,
  type PendingApproval,
} from '../../tools';
import { CsrfField, Empty, FormError, formatTime, Layout, prettyJson, type FieldErrors } from '../layout';
import { fieldErrorsOf, pageContext, render, type PageContext } from '../page';
import { formOf, signedInPage } from '../session';

const ApprovalsPage = (props: {
  page: PageContext;
  approvals: PendingApproval[];
  agentNames: Map<string, string>;
  errors?: FieldErrors;
}) => {
  const { principal, csrf } = props.page;
  return (
    <Layout title="Pending approvals" principal={principal} csrf={csrf} section="approvals" live={{ page: 'approvals' }}>
      <p>
        A call that needs approval waits here for ten minutes, then expires (= denied). Approving runs exactly the arguments shown; nobody
        decides their own call.
      </p>
      <FormError errors={props.errors} />
      {props.approvals.length === 0 ? (
        <Empty>Nothing is waiting for approval. Calls to tools installed with approval “always” appear here.</Empty>
      ) : (
        props.approvals.map((approval) => (
          <section class="panel" aria-labelledby={`apr-${approval.id}`}>
            <h2 id={`apr-${approval.id}`}>{`${approval.tool} on ${props.agentNames.get(approval.agentId) ?? approval.agentId}`}</h2>
            <p>
              {`Requested ${formatTime(approval.createdAt)}, expires ${formatTime(approval.expiresAt)}. `}
              <a href={`/invocations/${encodeURIComponent(approval.invocationId)}`}>Invocation</a>
            </p>
            <p>Exact arguments (secrets redacted):</p>
            <pre aria-label={`Arguments of ${approval.tool}`}>{prettyJson(approval.arguments)}</pre>
            <p class="mono">{`sha256 ${approval.argumentsHash}`}</p>
            <form method="post" action={`/approvals/${encodeURIComponent(approval.id)}`} class="inline">
              <CsrfField token={csrf} />
              <input type="hidden" name="argumentsHash" value={approval.argumentsHash} />
              <button type="submit" name="decision" value="approve">
                Approve and run
              </button>{' '}
              <button type="submit" name="decision" value="deny" class="danger">
                Deny
              </button>
            </form>
          </section>
        ))
      )}
    </Layout>
  );
};

const InvocationPage = (props: { page: PageContext; invocation: ReturnType<typeof invocationView>; agentName: string }) => {
  const { principal, csrf } = props.page;
  const inv = props.invocation;
  return (
    <Layout
      title={`Invocation ${inv.id}`}
      principal={principal}
      csrf={csrf}
      section="approvals"
      live={{ page: 'invocation', invocationId: inv.id }}
    >
      <dl>
        <dt>Tool</dt>
        <dd>
          <a href={`/agents/${encodeURIComponent(inv.agentId)}/tools/${encodeURIComponent(inv.tool)}`}>{inv.tool}</a>
          {` on ${props.agentName}`}
        </dd>
        <dt>Status</dt>
        <dd>
          <span
            class={`badge ${inv.status === 'completed' ? 'good' : inv.status === 'pending_approval' || inv.status === 'running' ? '' : 'bad'}`}
          >
            {inv.status}
          </span>
          {inv.status === 'pending_approval' ? (
            <>
              {' '}
              — waiting for <a href="/approvals">an approval</a>
            </>
          ) : null}
        </dd>
        <dt>Exit code</dt>
        <dd>{inv.exitCode ?? '—'}</dd>
        <dt>Duration</dt>
        <dd>{inv.durationMs === null ? '—' : `${inv.durationMs} ms`}</dd>
        <dt>Requested</dt>
        <dd>{formatTime(inv.createdAt)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(inv.finishedAt)}</dd>
      </dl>
      <h2>Output (redacted{inv.truncated ? ', truncated' : ''})</h2>
      <pre aria-label="Standard output">{inv.stdout ?? ''}</pre>
      {inv.stderr ? <pre aria-label="Standard error">{inv.stderr}</pre> : null}
    </Layout>
  );
};

/** Pending approvals with approve/deny, and one invocation's status and output (rules in src/tools/approvals.ts). */
export function approvalPages(deps: { now: Clock; fetch: typeof fetch; onApprovalDecided?: ApprovalHook | undefined }) {
  const { now } = deps;
  const router = new Hono<AppEnv>();

  async function approvalsProps(c: Context<AppEnv>) {
    const page = pageContext(c, now);
    const approvals = await listPendingApprovals(c.env, page.principal.workspaceId, now);
    const agents = page.principal.scopes.has('agents:read') ? await listAgents(c.env, page.principal) : null;
    const agentNames = new Map(agents?.ok ? agents.value.map((a) => [a.id, a.name] as const) : []);
    return { page, approvals, agentNames };
  }

  router.get('/approvals', signedInPage({ anyScope: ['tools:invoke', 'approvals:decide'] }), async (c) =>
    render(c, <ApprovalsPage {...await approvalsProps(c)} />),
  );

  router.post('/approvals/:id', signedInPage(), async (c) => {
    const page = pageContext(c, now);
    const form = await formOf(c);
    const decision = form.decision === 'approve' ? 'approve' : form.decision === 'deny' ? 'deny' : null;
    const hash = /^[0-9a-f]{64}$/.test(form.argumentsHash ?? '') ? form.argumentsHash : undefined;
    if (!decision || !hash) throw new ApiError('VALIDATION_ERROR', 'Choose approve or deny.', { fields: ['decision'] });
    try {
      const result = await decideApproval(
        {
          env: c.env,
          now,
          fetch: deps.fetch,
          requestId: c.get('requestId'),
          onApprovalDecided: deps.onApprovalDecided,
          waitUntil: waitUntilOf(c),
        },
        page.principal,
        c.req.param('id').slice(0, 64),
        { decision, argumentsHash: hash },
      );
      return c.redirect(`/invocations/${encodeURIComponent(result.id)}`, 303);
    } catch (error) {
      const refused = fieldErrorsOf(error);
      return render(c, <ApprovalsPage {...await approvalsProps(c)} errors={refused.errors} />, refused.status);
    }
  });

  router.get('/invocations/:id', signedInPage({ anyScope: ['tools:invoke', 'agents:read'] }), async (c) => {
    const page = pageContext(c, now);
    const row = await invocationInWorkspace(createDb(c.env.DB), page.principal.workspaceId, c.req.param('id').slice(0, 64));
    if (!row) throw new ApiError('NOT_FOUND');
    const agents = page.principal.scopes.has('agents:read') ? await listAgents(c.env, page.principal) : null;
    const agentName = (agents?.ok ? agents.value.find((a) => a.id === row.agentId)?.name : undefined) ?? row.agentId;
    return render(c, <InvocationPage page={page} invocation={invocationView(row)} agentName={agentName} />);
  });

  return router;
}
