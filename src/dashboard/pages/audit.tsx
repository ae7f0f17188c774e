import { Hono } from 'hono';
import { checkAuditChain, listAuditEvents } from '../../audit';
import type { Clock } from '../../auth';
import type { AppEnv } from '../../env';
import { Empty, Field, formatTime, Layout, prettyJson } from '../layout';
import { pageContext, problemError, render, type PageContext } from '../page';
import { signedInPage } from '../session';

const PAGE_SIZE = 50;
type AuditPage = Extract<Awaited<ReturnType<typeof listAuditEvents>>, { ok: true }>['value'];
type Verdict = Extract<Awaited<ReturnType<typeof checkAuditChain>>, { ok: true }>['value'];

interface Filters {
  kind: string;
  actor: string;
  since: string;
  until: string;
}

/** `datetime-local` text (taken as UTC) → ms, or undefined. */
function parseTime(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const ms = Date.parse(`${value}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

function query(filters: Filters, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  if (cursor) params.set('cursor', cursor);
  return `/audit?${params.toString()}`;
}

const AuditLogPage = (props: { page: PageContext; events: AuditPage; filters: Filters; verdict?: Verdict | undefined }) => {
  const { principal, csrf } = props.page;
  const { filters, verdict } = props;
  return (
    <Layout title="Audit log" principal={principal} csrf={csrf} section="audit">
      <p>Every decision the gateway makes, hash-chained and append-only. Oldest first.</p>
      {verdict ? (
        verdict.ok ? (
          <div class="notice ok" role="status">
            <strong>Chain intact.</strong> {`All ${verdict.count} events verify: every hash matches its event and links to the one before.`}
          </div>
        ) : (
          <div class="notice error" role="alert">
            <strong>Chain broken.</strong>{' '}
            {`${verdict.problems?.length ?? 0} problem(s) in ${verdict.count} events; first: ${prettyJson(verdict.firstBroken)}`}
          </div>
        )
      ) : null}
      <div class="pager">
        <a class="button secondary" href="/audit/verify">
          Verify the chain
        </a>
        <a class="button secondary" href="/api/v1/audit/export" download="audit.jsonl">
          Export (JSON Lines)
        </a>
      </div>
      <form method="get" action="/audit" class="filters" aria-label="Filter events">
        <Field name="kind" label="Kind" value={filters.kind} placeholder="tool.approval.decided" />
        <Field name="actor" label="Actor" value={filters.actor} placeholder="user:usr_…" />
        <Field name="since" label="From (UTC)" type="datetime-local" value={filters.since} />
        <Field name="until" label="Until (UTC)" type="datetime-local" value={filters.until} />
        <button type="submit">Filter</button>
      </form>
      {props.events.events.length === 0 ? (
        <Empty>No events match. Clear the filters, or act in the gateway: every sign-in, key, agent and tool call is recorded.</Empty>
      ) : (
        <div class="table-wrap" tabindex={0} role="region" aria-label="Scrollable table">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Kind</th>
                <th scope="col">Actor</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {props.events.events.map((event) => (
                <tr>
                  <td>{event.seq}</td>
                  <td>{formatTime(event.createdAt)}</td>
                  <td class="mono">{event.kind}</td>
                  <td class="mono">{event.actor}</td>
                  <td>
                    <code>{JSON.stringify(event.data)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <a href={query(filters)}>First page</a>
        {props.events.nextCursor ? <a href={query(filters, props.events.nextCursor)}>Next page →</a> : <span>Last page</span>}
      </nav>
    </Layout>
  );
};

/** The audit log: filters, paging, export (the API's own export route), chain verification (src/audit/reading.ts). */
export function auditPages(now: Clock) {
  const router = new Hono<AppEnv>();

  router.get('/audit', signedInPage({ scopes: ['audit:read'] }), async (c) => {
    const page = pageContext(c, now);
    const text = (name: string, max: number) => (c.req.query(name) ?? '').trim().slice(0, max);
    const filters: Filters = { kind: text('kind', 64), actor: text('actor', 128), since: text('since', 19), until: text('until', 19) };
    const cursor = /^\d{1,15}$/.test(c.req.query('cursor') ?? '') ? c.req.query('cursor') : undefined;
    const listed = await listAuditEvents(c.env, page.principal, {
      cursor,
      limit: PAGE_SIZE,
      kind: filters.kind || undefined,
      actor: filters.actor || undefined,
      since: parseTime(filters.since),
      until: parseTime(filters.until),
    });
    if (!listed.ok) throw problemError(listed.problem);
    return render(c, <AuditLogPage page={page} events={listed.value} filters={filters} />);
  });

  router.get('/audit/verify', signedInPage({ scopes: ['audit:read'] }), async (c) => {
    const page = pageContext(c, now);
    const verdict = await checkAuditChain(c.env, page.principal);
    if (!verdict.ok) throw problemError(verdict.problem);
    const listed = await listAuditEvents(c.env, page.principal, { limit: PAGE_SIZE });
    if (!listed.ok) throw problemError(listed.problem);
    return render(
      c,
      <AuditLogPage page={page} events={listed.value} filters={{ kind: '', actor: '', since: '', until: '' }} verdict={verdict.value} />,
    );
  });

  return router;
}
