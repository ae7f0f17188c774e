import { env } from 'cloudflare:workers';
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { ORIGIN } from './helpers';
import {
  asSession,
  createKey,
  createWorkspaceWithOwner,
  inviteUser,
  login,
  OWNER,
  setupInstance,
  testThrottle,
  type Session,
} from './identity-helpers';
import { auditOf, clientOf, connect, parsed, ticketForKey, upgrade, type Client } from './events-support';
import { LOCAL_EXECUTOR, stubRunner, TEST_MANIFEST, toolApp } from './tools-support';

/** Written out, not imported: a weakened value in the code must fail here (docs/events.md, docs/ratelimit.md). */
const EVENTS_CLIENT_BURST = 30; // events-client: 30 messages per 60 s
const CLIENT_MESSAGE_MAX_BYTES = 1_024;
const CLOSE = { unsupportedData: 1003, policyViolation: 1008, tooBig: 1009, reauthenticate: 4001 };

let owner: Session;
let ownerB: Session;
let viewer: Session;
let approver: Session;

async function createAgent(session: Session, name: string): Promise<string> {
  const res = await asSession(session, '/api/v1/agents', { method: 'POST', body: { name, isolation: 'sandbox' } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

beforeAll(async () => {
  await setupInstance('Workspace A');
  owner = await login(OWNER.email, OWNER.password);
  ownerB = await createWorkspaceWithOwner(owner, 'Workspace B', 'owner-b@example.com', 'owner b passphrase long');
  await inviteUser(owner, 'viewer@example.com', 'viewer', 'viewer passphrase long');
  viewer = await login('viewer@example.com', 'viewer passphrase long');
  await inviteUser(owner, 'approver@example.com', 'operator', 'approver passphrase long');
  approver = await login('approver@example.com', 'approver passphrase long');
});

describe('events reach the caller’s workspace only', () => {
  it('never delivers another workspace’s events, even when the connection is opened for the same names', async () => {
    const a = await connect(owner);
    const b = await connect(ownerB);
    await createAgent(owner, 'only-in-a');
    const inA = parsed(await a.next(auditOf('agent.created')));
    // B's own event is the marker: once it arrived, anything published to B before it has too.
    await createAgent(ownerB, 'only-in-b');
    const inB = parsed(await b.next(auditOf('agent.created')));
    expect(inB.data.id).not.toBe(inA.data.id);
    expect(b.received.some((frame) => frame.includes(String(inA.data.id)))).toBe(false);
    expect(a.received.some((frame) => frame.includes(String(inB.data.id)))).toBe(false);
    a.ws.close(1000);
    b.ws.close(1000);
  });

  it('carries an audit event’s kind, actor, time and position, never its data', async () => {
    const a = await connect(owner);
    const res = await asSession(owner, '/api/v1/credentials/SECRET_NAME_X', {
      method: 'PUT',
      body: { value: 'v3ry-s3cret-value-0123456789' },
    });
    expect(res.status).toBeLessThan(300);
    const event = parsed(await a.next(auditOf('credential.put')));
    expect(Object.keys(event.data).sort()).toEqual(['actor', 'id', 'kind', 'seq']);
    expect(event.data.actor).toBe(`user:${owner.userId}`);
    expect(a.received.join('\n')).not.toContain('v3ry-s3cret-value');
    expect(a.received.join('\n')).not.toContain('SECRET_NAME_X');
    a.ws.close(1000);
  });

  it('delivers each type only to credentials whose scopes may read it (a viewer gets no audit events)', async () => {
    const watching = await connect(viewer);
    const auditKey = await createKey(owner, ['audit:read']);
    const auditor = clientOf(await upgrade(`/api/v1/events?ticket=${await ticketForKey(auditKey.key)}`, { Origin: ORIGIN }));
    await createAgent(owner, 'scoped');
    await auditor.next(auditOf('agent.created'));
    // The viewer's socket is open and gets the marker sent to every connection of the workspace…
    await runInDurableObject(env.EVENT_HUB.getByName(owner.workspaceId), (hub) =>
      hub.publish([{ type: 'invocation.finished', workspaceId: owner.workspaceId, at: Date.now(), data: { marker: 'm1' } }]),
    );
    await watching.next((frame) => frame.includes('m1'));
    // …but no audit frame reached it.
    expect(watching.received.some((frame) => parsed(frame).type === 'audit')).toBe(false);
    // The audit-only key gets no invocation results (tools:invoke or agents:read needed).
    expect(auditor.received.some((frame) => frame.includes('m1'))).toBe(false);
    watching.ws.close(1000);
    auditor.ws.close(1000);
  });
});

describe('approvals and invocation results are published', () => {
  it('publishes approval.pending when a call waits and approval.decided when it is denied, without the arguments', async () => {
    const agentId = await createAgent(owner, 'careful');
    const install = await asSession(owner, `/api/v1/agents/${agentId}/tools`, {
      method: 'POST',
      body: { manifest: TEST_MANIFEST, tools: { cat: { approval: 'always' } } },
    });
    expect(install.status).toBe(201);
    const agentKey = await createKey(owner, ['tools:invoke']);
    const watcher = await connect(approver);
    const app = createApp({ loginThrottle: testThrottle });
    const bindings = { ...env, ...LOCAL_EXECUTOR };
    const invoke = await app.fetch(
      new Request(`${ORIGIN}/api/v1/agents/${agentId}/tools/cat/invocations`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${agentKey.key}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '198.51.100.9' },
        body: JSON.stringify({ arguments: { path: '/workspace/private-plan.txt' } }),
      }),
      bindings,
    );
    expect(invoke.status).toBe(202);
    const invocationId = ((await invoke.json()) as { id: string }).id;
    const pending = parsed(await watcher.next((frame) => parsed(frame).type === 'approval.pending'));
    expect(pending.data).toMatchObject({ invocationId, agentId, tool: 'cat' });
    expect(typeof pending.data.approvalId).toBe('string');
    const deny = await asSession(approver, `/api/v1/approvals/${String(pending.data.approvalId)}`, {
      method: 'POST',
      body: { decision: 'deny' },
    });
    expect(deny.status).toBe(200);
    const decided = parsed(await watcher.next((frame) => parsed(frame).type === 'approval.decided'));
    expect(decided.data).toMatchObject({ approvalId: pending.data.approvalId, invocationId, decision: 'denied' });
    expect(watcher.received.join('\n')).not.toContain('private-plan');
    watcher.ws.close(1000);
  });

  it('publishes approval.decided (approved) and then invocation.finished when an approved call runs', async () => {
    const agentId = await createAgent(owner, 'approved-run');
    const install = await asSession(owner, `/api/v1/agents/${agentId}/tools`, {
      method: 'POST',
      body: { manifest: TEST_MANIFEST, tools: { cat: { approval: 'always' } } },
    });
    expect(install.status).toBe(201);
    const agentKey = await createKey(owner, ['tools:invoke']);
    const watcher = await connect(approver);
    const runner = stubRunner(() => ({ stdout: 'approved output', exitCode: 0 }));
    const app = createApp({ loginThrottle: testThrottle, fetch: runner.fetch });
    const bindings = { ...env, ...LOCAL_EXECUTOR };
    const invoke = await app.fetch(
      new Request(`${ORIGIN}/api/v1/agents/${agentId}/tools/cat/invocations`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${agentKey.key}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': '198.51.100.10' },
        body: JSON.stringify({ arguments: { path: '/workspace/ok.txt' } }),
      }),
      bindings,
    );
    expect(invoke.status).toBe(202);
    const invocationId = ((await invoke.json()) as { id: string }).id;
    const pending = parsed(await watcher.next((frame) => parsed(frame).type === 'approval.pending' && frame.includes(invocationId)));
    const approve = await app.fetch(
      new Request(`${ORIGIN}/api/v1/approvals/${String(pending.data.approvalId)}`, {
        method: 'POST',
        headers: {
          Cookie: approver.cookie,
          'X-CSRF-Token': approver.csrfToken,
          'Content-Type': 'application/json',
          'CF-Connecting-IP': '198.51.100.10',
        },
        body: JSON.stringify({ decision: 'approve' }),
      }),
      bindings,
    );
    expect(approve.status).toBe(200);
    const decided = parsed(await watcher.next((frame) => parsed(frame).type === 'approval.decided' && frame.includes(invocationId)));
    expect(decided.data).toMatchObject({ invocationId, decision: 'approved' });
    const finished = parsed(await watcher.next((frame) => parsed(frame).type === 'invocation.finished' && frame.includes(invocationId)));
    expect(finished.data).toMatchObject({ invocationId, status: 'completed', exitCode: 0 });
    expect(watcher.received.join('\n')).not.toContain('approved output');
    watcher.ws.close(1000);
  });

  it('publishes invocation.finished when a call ran, with its status and never its output', async () => {
    const agentId = await createAgent(owner, 'runs-at-once');
    const install = await asSession(owner, `/api/v1/agents/${agentId}/tools`, { method: 'POST', body: { manifest: TEST_MANIFEST } });
    expect(install.status).toBe(201);
    const watcher = await connect(owner);
    const runner = stubRunner(() => ({ stdout: 'TOP-SECRET-OUTPUT', exitCode: 0 }));
    const call = toolApp({ fetch: runner.fetch, bindings: LOCAL_EXECUTOR });
    const res = await call(owner, `/api/v1/agents/${agentId}/tools/cat/invocations`, {
      method: 'POST',
      body: { arguments: { path: '/workspace/notes.txt' } },
    });
    expect(res.status).toBe(200);
    const invocationId = ((await res.json()) as { id: string }).id;
    const finished = parsed(await watcher.next((frame) => parsed(frame).type === 'invocation.finished'));
    expect(finished.data).toMatchObject({ invocationId, agentId, tool: 'cat', status: 'completed', exitCode: 0 });
    expect(watcher.received.join('\n')).not.toContain('TOP-SECRET-OUTPUT');
    expect(watcher.received.join('\n')).not.toContain('notes.txt');
    watcher.ws.close(1000);
  });
});

describe('what a client may send', () => {
  it('narrows delivery with a subscribe filter and acknowledges it', async () => {
    const client = await connect(owner);
    client.ws.send(JSON.stringify({ type: 'subscribe', types: ['invocation.finished'] }));
    expect(JSON.parse(await client.next((frame) => frame.includes('subscribed')))).toEqual({
      type: 'subscribed',
      types: ['invocation.finished'],
    });
    await createAgent(owner, 'filtered-out');
    await runInDurableObject(env.EVENT_HUB.getByName(owner.workspaceId), (hub) =>
      hub.publish([{ type: 'invocation.finished', workspaceId: owner.workspaceId, at: Date.now(), data: { marker: 'f1' } }]),
    );
    await client.next((frame) => frame.includes('f1'));
    // The agent was created after the filter was acknowledged: its audit event was filtered out.
    expect(client.received.some(auditOf('agent.created'))).toBe(false);
    client.ws.close(1000);
  });

  it('disconnects a flooding client with 1008 (policy violation) once its events-client budget is spent', async () => {
    const client = await connect(owner);
    const subscribe = JSON.stringify({ type: 'subscribe', types: ['audit'] });
    for (let i = 0; i < EVENTS_CLIENT_BURST + 5; i++) {
      try {
        client.ws.send(subscribe);
      } catch {
        break; // closed under us
      }
    }
    const closed = await client.closed;
    expect(closed.code).toBe(CLOSE.policyViolation);
    // It was served until the budget ran out.
    expect(client.received.filter((frame) => frame.includes('subscribed')).length).toBe(EVENTS_CLIENT_BURST);
  });

  it.each([
    ['a binary message', (ws: WebSocket) => ws.send(new Uint8Array([1, 2, 3])), CLOSE.unsupportedData],
    ['a message over the size cap', (ws: WebSocket) => ws.send('x'.repeat(CLIENT_MESSAGE_MAX_BYTES + 1)), CLOSE.tooBig],
    ['an unknown message', (ws: WebSocket) => ws.send(JSON.stringify({ type: 'publish', data: {} })), CLOSE.policyViolation],
    [
      'a subscribe to an unknown type',
      (ws: WebSocket) => ws.send(JSON.stringify({ type: 'subscribe', types: ['everything'] })),
      CLOSE.policyViolation,
    ],
    ['text that is not JSON', (ws: WebSocket) => ws.send('hello'), CLOSE.policyViolation],
  ])('closes the connection on %s', async (_name, misbehave, code) => {
    const client = await connect(owner);
    misbehave(client.ws);
    expect((await client.closed).code).toBe(code);
  });

  it('answers ping with pong (the platform’s auto-response)', async () => {
    const client = await connect(owner);
    client.ws.send('ping');
    expect(await client.next((frame) => frame === 'pong')).toBe('pong');
    client.ws.close(1000);
  });
});

describe('connections outlive the object (hibernation)', () => {
  it('a connection whose object was evicted still gets pong, keeps its filter and receives events', async () => {
    const client = await connect(owner);
    client.ws.send(JSON.stringify({ type: 'subscribe', types: ['audit'] }));
    await client.next((frame) => frame.includes('subscribed'));
    const hub = env.EVENT_HUB.getByName(owner.workspaceId);
    let before: unknown;
    await runInDurableObject(hub, (instance, state) => {
      before = instance;
      expect(state.getWebSockets().length).toBeGreaterThan(0);
    });
    // Tears the instance down; its WebSockets are hibernated, not closed. Memory is gone.
    await evictDurableObject(hub);
    client.ws.send('ping');
    await client.next((frame) => frame === 'pong');
    await runInDurableObject(hub, (instance, state) => {
      // A new instance: nothing of the old one's memory survived…
      expect(instance).not.toBe(before);
      // …the socket did, and its pong came from the platform's auto-response, not from webSocketMessage.
      const sockets = state.getWebSockets();
      expect(sockets.length).toBeGreaterThan(0);
      expect(sockets.some((ws) => state.getWebSocketAutoResponseTimestamp(ws) instanceof Date)).toBe(true);
    });
    // A type the stored filter excludes, then one it includes: only the second arrives.
    await runInDurableObject(hub, (instance) => {
      instance.publish([{ type: 'invocation.finished', workspaceId: owner.workspaceId, at: Date.now(), data: { marker: 'excluded' } }]);
    });
    await createAgent(owner, 'after-eviction');
    await client.next(auditOf('agent.created'));
    expect(client.received.some((frame) => frame.includes('excluded'))).toBe(false);
    client.ws.close(1000);
  });

  it('closes a connection past its maximum age with 4001 instead of delivering to it', async () => {
    // Opened by an app whose clock is 20 minutes behind: the connection is already older than 15 minutes.
    const past = createApp({ loginThrottle: testThrottle, now: () => Date.now() - 20 * 60_000 });
    const issue = await past.fetch(
      new Request(`${ORIGIN}/api/v1/events/tickets`, {
        method: 'POST',
        headers: { Cookie: owner.cookie, 'X-CSRF-Token': owner.csrfToken, 'CF-Connecting-IP': '198.51.100.8' },
      }),
      env,
    );
    const { ticket } = (await issue.json()) as { ticket: string };
    const res = await past.fetch(
      new Request(`${ORIGIN}/api/v1/events?ticket=${ticket}`, {
        headers: { Upgrade: 'websocket', Origin: ORIGIN, 'CF-Connecting-IP': '198.51.100.8' },
      }),
      env,
    );
    const client: Client = clientOf(res);
    await createAgent(owner, 'too-late');
    expect((await client.closed).code).toBe(CLOSE.reauthenticate);
    expect(client.received).toEqual([]);
  });
});

describe('the audit log publishes only while someone listens', () => {
  it('stops publishing while its hub has no connection, and publishes again from the moment one opens', async () => {
    // A workspace of its own, so no socket of another test is open in it.
    const ownerQ = await createWorkspaceWithOwner(owner, 'Quiet', 'owner-q@example.com', 'owner q passphrase long');
    const auditLog = env.AUDIT_LOG.getByName(ownerQ.workspaceId);
    const quiet = () => runInDurableObject(auditLog, (log) => (log as unknown as { hubQuiet: boolean }).hubQuiet);
    await createAgent(ownerQ, 'nobody-watches');
    // The hub's "0 connections" answer arrives after the append; wait for it (bounded, not timed).
    for (let i = 0; i < 200 && !(await quiet()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await quiet()).toBe(true);
    const watcher = await connect(ownerQ);
    expect(await quiet()).toBe(false);
    await createAgent(ownerQ, 'now-watched');
    // Only this agent was created while the socket was open: its event is the one that arrives.
    expect(parsed(await watcher.next(auditOf('agent.created'))).data.actor).toBe(`user:${ownerQ.userId}`);
    watcher.ws.close(1000);
  });
});
