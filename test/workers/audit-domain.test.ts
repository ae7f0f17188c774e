import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAuditChain, exportAuditEvents, listAuditEvents } from '../../src/audit';
import { setupInstance } from './identity-helpers';

/** Domain functions are called directly: no fetch, no middleware. */
let workspaceId = '';

beforeAll(async () => {
  ({ workspaceId } = await setupInstance());
});

async function exported(actor: { workspaceId: string }): Promise<string> {
  const stream = exportAuditEvents(env, actor);
  if (!stream.ok) throw new Error('export refused');
  return new Response(stream.value).text();
}

describe('audit reading domain functions (src/audit/reading.ts), without HTTP', () => {
  it('another workspace reads none of this workspace’s events: list, export and verify see an empty chain', async () => {
    const own = await listAuditEvents(env, { workspaceId }, {});
    if (!own.ok) throw new Error('list refused');
    // Setup wrote this workspace's first events (the chain is not empty, so the check below can fail).
    expect(own.value.events.length).toBeGreaterThan(0);
    expect(own.value.events.every((event) => event.workspaceId === workspaceId)).toBe(true);
    expect((await exported({ workspaceId })).split('\n').filter(Boolean)).toHaveLength(own.value.events.length);

    const stranger = { workspaceId: 'ws_someone_else' };
    expect(await listAuditEvents(env, stranger, {})).toEqual({ ok: true, value: { events: [], nextCursor: null } });
    expect(await exported(stranger)).toBe('');
    expect(await checkAuditChain(env, stranger)).toEqual({ ok: true, value: { ok: true, count: 0 } });
  });

  it('pages by cursor without repeating or skipping an event', async () => {
    const all = await listAuditEvents(env, { workspaceId }, { limit: 500 });
    if (!all.ok) throw new Error('list refused');
    const seqs: number[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await listAuditEvents(env, { workspaceId }, { limit: 1, cursor });
      if (!page.ok) throw new Error('list refused');
      seqs.push(...page.value.events.map((event) => event.seq));
      if (page.value.nextCursor === null) break;
      cursor = page.value.nextCursor;
    }
    expect(seqs).toEqual(all.value.events.map((event) => event.seq));
  });
});
