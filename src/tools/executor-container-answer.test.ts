import { describe, expect, it } from 'vitest';
import { classifyContainerAnswer } from './executor-container-answer';

const runnerResult = {
  exitCode: 0,
  signal: null,
  stdout: 'ok\n',
  stderr: '',
  truncated: false,
  durationMs: 5,
  stopReason: 'exit',
  egressEvents: [],
};

describe('classifyContainerAnswer: a container that never started is not a call that ran, and vice versa', () => {
  it.each([
    ["the runner's answer", new Response(JSON.stringify(runnerResult), { status: 200 }), false, { ok: true, stopReason: 'exit' }],
    [
      'the deadline passed (abort signal): sent, no answer → lost, a failed call',
      new Response('late', { status: 500 }),
      true,
      { ok: true, stopReason: 'executor-lost' },
    ],
    [
      'a container that disconnected mid-call (crash, OOM, killed) → lost',
      new Response('Container suddenly disconnected, try again', { status: 500 }),
      false,
      { ok: true, stopReason: 'executor-lost' },
    ],
    [
      'a proxying error once the call was sent → lost',
      new Response('Error proxying request to container: reset', { status: 500 }),
      false,
      { ok: true, stopReason: 'executor-lost' },
    ],
    [
      'a container that could not start → start-failed, nothing ran',
      new Response('Failed to start container: no image', { status: 500 }),
      false,
      { ok: false, failure: 'start-failed' },
    ],
    [
      'no instance available (max_instances) → no-capacity',
      new Response('There is no Container instance available at this time.', { status: 503 }),
      false,
      { ok: false, failure: 'no-capacity' },
    ],
    ['a rate-limited start → busy', new Response('rate limited', { status: 429 }), false, { ok: false, failure: 'busy' }],
    [
      'a signature the runner refuses → unauthenticated',
      new Response('{"error":{"code":"UNAUTHENTICATED"}}', { status: 401 }),
      false,
      { ok: false, failure: 'unauthenticated' },
    ],
    ["the runner's isolation refusal → refused", new Response('{}', { status: 403 }), false, { ok: false, failure: 'refused' }],
    ['another call running → busy', new Response('{}', { status: 409 }), false, { ok: false, failure: 'busy' }],
    [
      'an unknown 500 text → bad-response (refused, never reported as run)',
      new Response('something else', { status: 500 }),
      false,
      { ok: false, failure: 'bad-response' },
    ],
    ['any other status → bad-response', new Response('{}', { status: 400 }), false, { ok: false, failure: 'bad-response' }],
  ])('%s', async (_label, response, deadlinePassed, expected) => {
    const outcome = await classifyContainerAnswer(response, deadlinePassed, 42);
    expect(outcome.ok ? { ok: true, stopReason: outcome.result.stopReason } : { ok: false, failure: outcome.failure.kind }).toEqual(
      expected,
    );
  });
});
