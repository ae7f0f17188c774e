import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { INTERRUPTED_REPLY } from '../../src/conversations';
import { expectError, ORIGIN } from './helpers';
import { asSession, inviteUser, login, OWNER, setupInstance, testThrottle, type Session } from './identity-helpers';
import { scriptConversationOutbound } from './conversation-outbound';
import { gatedModelFetch, MODEL_BASE, scriptedModel, type ScriptStep } from './scripted-model';
import { agentAudit, modelAgent, postMessage } from './runtime-support';
import { LOCAL_EXECUTOR, stubRunner, toolApp } from './tools-support';

const MODEL = { provider: 'openai-compatible', model: 'scripted', baseUrl: MODEL_BASE, credential: 'MODEL_KEY' };

let owner: Session;
let operator: Session;

beforeAll(async () => {
  await setupInstance('Approval resume');
  owner = await login(OWNER.email, OWNER.password);
  await inviteUser(owner, 'op-resume@example.com', 'operator', 'operator passphrase long enough');
  operator = await login('op-resume@example.com', 'operator passphrase long enough');
  expect(
    (await asSession(owner, '/api/v1/credentials/MODEL_KEY', { method: 'PUT', body: { value: 'sk-resume-model-key-0123456789' } })).status,
  ).toBeLessThan(300);
});

afterAll(() => scriptConversationOutbound(null));

/**
 * The app and the conversation objects with one scripted model (gated on demand: a model call
 * waits until the test opens the gate, a model as slow as the test wants, without timers) and
 * the stub runner.
 */
function world(script: ScriptStep[]) {
  const runner = stubRunner(() => ({ stdout: 'hello from the sandbox\n' }));
  const model = scriptedModel(script, runner.fetch);
  const gate = gatedModelFetch(model.fetch, { armed: false });
  const fetchFn = gate.fetch;
  scriptConversationOutbound({ fetch: fetchFn, bindings: LOCAL_EXECUTOR });
  const app = createApp({ loginThrottle: testThrottle, fetch: fetchFn });
  return {
    model,
    runner,
    gate: gate.arm,
    open: gate.open,
    arrived: gate.arrived,
    call: toolApp({ fetch: fetchFn, bindings: LOCAL_EXECUTOR }),
    /** A decision through the Worker with an execution context: the approval hook runs in its waitUntil. */
    async decideInBackground(session: Session, approvalId: string, decision: 'approve' | 'deny') {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`${ORIGIN}/api/v1/approvals/${approvalId}`, {
          method: 'POST',
          headers: { Cookie: session.cookie, 'X-CSRF-Token': session.csrfToken, 'Content-Type': 'application/json' },
          body: JSON.stringify({ decision }),
        }),
        { ...env, ...LOCAL_EXECUTOR },
        ctx,
      );
      return { res, hook: () => waitOnExecutionContext(ctx) };
    },
  };
}

function stubOf(conversationId: string) {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(conversationId));
}

/** Settles the conversation's paused turn now, as its alarm would (joining the alarm's run if it is under way). */
async function settled(conversationId: string): Promise<void> {
  await stubOf(conversationId).settlePaused();
}

async function view(agentId: string, conversationId: string) {
  const res = await asSession(owner, `/api/v1/agents/${agentId}/conversations/${conversationId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; pendingApprovalId: string | null; messages: Array<{ role: string; text?: string }> };
}

async function pausedTurn(name: string, w: ReturnType<typeof world>) {
  const agentId = await modelAgent(owner, name, { model: MODEL, tools: { cat: { approval: 'always' } } });
  const res = await postMessage(w.call, owner, agentId, 'read the file');
  expect(res.status).toBe(202);
  const body = (await res.json()) as { conversationId: string; approvalId: string };
  const workspaceId = (await env.DB.prepare('SELECT workspace_id AS w FROM agents WHERE id = ?').bind(agentId).first<{ w: string }>())!.w;
  const identity = { workspaceId, agentId, conversationId: body.conversationId };
  expect(await view(agentId, body.conversationId)).toMatchObject({ status: 'pending_approval', pendingApprovalId: body.approvalId });
  return { agentId, identity, ...body };
}

const readThenReply = (reply: string): ScriptStep[] => [{ toolCalls: [{ name: 'cat', args: { path: '/workspace/s' } }] }, { text: reply }];

describe('a turn paused for approval resumes inside its conversation object (docs/agents.md "The loop" 6)', () => {
  it('the decision answers while the resumed model step has not run; the reply then lands in the transcript', async () => {
    const w = world(readThenReply('It says hello.'));
    const p = await pausedTurn('resume-fast-answer', w);
    // From here on, every model call waits at the gate: the resumed step cannot finish before the test opens it.
    w.gate();
    const decided = await w.call(operator, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } });
    expect(decided.status).toBe(200);
    expect(((await decided.json()) as { status: string; stdout: string }).stdout).toBe('hello from the sandbox\n');
    expect(w.runner.calls).toHaveLength(1);
    expect(w.model.requests).toHaveLength(1);
    // The REST caller who got 202 sees the turn running, then its reply as the last entry.
    expect((await view(p.agentId, p.conversationId)).status).toBe('running');
    const settling = settled(p.conversationId);
    await w.arrived;
    expect(await view(p.agentId, p.conversationId)).toMatchObject({ status: 'running', pendingApprovalId: null });
    w.open();
    await settling;
    const after = await view(p.agentId, p.conversationId);
    expect(after.status).toBe('idle');
    expect(after.messages.at(-1)).toEqual({ role: 'assistant', text: 'It says hello.' });
    expect(JSON.stringify(w.model.requests[1]!.body.messages)).toContain('hello from the sandbox');
    expect(w.runner.calls).toHaveLength(1);
    expect((await agentAudit('agent.turn.finished', p.agentId)).map((e) => e.outcome)).toEqual(['replied']);
  });

  it('survives an eviction between the decision and the run, with the decision’s hand-off lost too: the object’s own alarm resumes the turn from storage and D1', async () => {
    const { runDurableObjectAlarm } = await import('cloudflare:test');
    const w = world(readThenReply('Resumed without a wake.'));
    const p = await pausedTurn('resume-no-wake', w);
    // The deciding Worker died before its hook reached the object (or the object was evicted
    // first): here, the hook finds no waiting conversation and wakes nothing.
    await env.DB.prepare('DELETE FROM conversation_waits WHERE approval_id = ?').bind(p.approvalId).run();
    const decided = await w.call(operator, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } });
    expect(decided.status).toBe(200);
    expect(w.runner.calls).toHaveLength(1);
    expect(w.model.requests).toHaveLength(1);
    expect(await view(p.agentId, p.conversationId)).toMatchObject({ status: 'pending_approval', pendingApprovalId: p.approvalId });
    // The object is evicted before anything runs (nothing is running in it: the alarm the pause set is at the approval's expiry).
    const reset = await runInDurableObject(stubOf(p.conversationId), (_instance, state) => {
      state.abort('evicted by the test');
    }).catch((error: unknown) => String(error));
    expect(reset).toContain('evicted by the test');
    // A fresh instance: that alarm reads the decision and the stored result from D1.
    expect(await runDurableObjectAlarm(stubOf(p.conversationId))).toBe(true);
    const after = await view(p.agentId, p.conversationId);
    expect(after).toMatchObject({ status: 'idle', pendingApprovalId: null });
    expect(after.messages.at(-1)).toEqual({ role: 'assistant', text: 'Resumed without a wake.' });
    expect(JSON.stringify(w.model.requests[1]!.body.messages)).toContain('hello from the sandbox');
    expect(w.runner.calls).toHaveLength(1);
  });

  it('a replayed, forged or foreign wake runs nothing: the tool runs once, the model is asked once more, only after the real decision', async () => {
    const w = world(readThenReply('Read it once.'));
    const p = await pausedTurn('resume-forged', w);
    const stub = stubOf(p.conversationId);
    // 1. A wake for another approval is ignored; one for this approval before anyone decided runs nothing (D1 says pending).
    expect(await stub.wake(p.identity, 'apr_00000000000000000000000000000000')).toBe(false);
    expect(await stub.wake(p.identity, p.approvalId)).toBe(true);
    await settled(p.conversationId);
    expect(w.runner.calls).toHaveLength(0);
    expect(w.model.requests).toHaveLength(1);
    expect(await view(p.agentId, p.conversationId)).toMatchObject({ status: 'pending_approval', pendingApprovalId: p.approvalId });
    // 2. The real decision: the tool runs once, the turn resumes once.
    const decided = await w.call(operator, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } });
    expect(decided.status).toBe(200);
    await settled(p.conversationId);
    expect(w.runner.calls).toHaveLength(1);
    expect(w.model.requests).toHaveLength(2);
    const transcript = (await view(p.agentId, p.conversationId)).messages;
    // 3. Replays: the decision again (409), the wake again (nothing waits on it any more).
    await expectError(
      await w.call(operator, `/api/v1/approvals/${p.approvalId}`, { method: 'POST', body: { decision: 'approve' } }),
      409,
      'CONFLICT',
    );
    expect(await stub.wake(p.identity, p.approvalId)).toBe(false);
    await settled(p.conversationId);
    expect(w.runner.calls).toHaveLength(1);
    expect(w.model.requests).toHaveLength(2);
    expect((await view(p.agentId, p.conversationId)).messages).toEqual(transcript);
    expect(
      (
        await env.DB.prepare("SELECT COUNT(*) AS n FROM tool_invocations WHERE agent_id = ? AND status = 'completed'")
          .bind(p.agentId)
          .first<{ n: number }>()
      )?.n,
    ).toBe(1);
  });

  it('a resumed turn cut by an eviction or restart is not run again: the transcript says so, its dead lease is freed', async () => {
    const w = world([{ toolCalls: [{ name: 'cat', args: { path: '/workspace/s' } }] }, { text: 'answered after the restart' }]);
    const p = await pausedTurn('resume-cut', w);
    // The object as an instance that died mid-resume leaves it: the paused turn taken with its
    // lease and marked started (resume() does both). (Resetting the object with state.abort()
    // cannot show this here: in the test pool the cut turn's code goes on running in the shared
    // isolate.) Done after the decision, before its wake reaches the object.
    let decided!: () => void;
    let blocked!: () => void;
    const decision = new Promise<void>((resolve) => (decided = resolve));
    const holding = new Promise<void>((resolve) => (blocked = resolve));
    // runInDurableObject answers only once the block is over: not awaited until then.
    const cut = runInDurableObject(stubOf(p.conversationId), (instance, state) =>
      state.blockConcurrencyWhile(async () => {
        blocked();
        await decision;
        return (await instance.resume(p.identity, p.approvalId, 0, 60_000)).ok;
      }),
    );
    await holding;
    const { res, hook } = await w.decideInBackground(operator, p.approvalId, 'approve');
    expect(res.status).toBe(200);
    decided();
    expect(await cut).toBe(true);
    await hook();
    await settled(p.conversationId);
    expect(w.runner.calls).toHaveLength(1);
    expect(w.model.requests).toHaveLength(1);
    const after = await view(p.agentId, p.conversationId);
    // The call it left without a result gets one (the history stays valid), then the notice.
    expect(after.messages.slice(-2)).toEqual([
      { role: 'tool', toolResult: { tool: 'cat', output: 'Unknown: the gateway restarted while this call was handled.' } },
      { role: 'assistant', text: INTERRUPTED_REPLY },
    ]);
    expect(after.status).toBe('idle');
    // The lease of the dead run no longer holds the conversation: the next message is answered at once.
    const next = await postMessage(w.call, owner, p.agentId, 'are you there?', p.conversationId);
    expect(next.status).toBe(200);
    expect(((await next.json()) as { reply: string }).reply).toBe('answered after the restart');
  });
});
