import { describe, expect, it } from 'vitest';
import { breakerRegistry, classifierBreakerKey } from './breakers';
import { BREAKER_THRESHOLD, CLOSED_BREAKER, type BreakerState } from './injection';

const OPEN: BreakerState = { failures: BREAKER_THRESHOLD, openUntil: 2_000_000, probeAt: 0 };
const SETTINGS = { provider: 'anthropic' as const, model: 'guard', baseUrl: 'https://api.example.com/v1', credential: 'GUARD_KEY' };

describe('classifier breaker registry (breakers.ts bounds)', () => {
  it('1. the key separates workspaces and every setting that changes where calls go', () => {
    const keys = new Set([
      classifierBreakerKey('ws_a', SETTINGS),
      classifierBreakerKey('ws_b', SETTINGS),
      classifierBreakerKey('ws_a', { ...SETTINGS, model: 'other' }),
      classifierBreakerKey('ws_a', { ...SETTINGS, baseUrl: 'https://api.example.org/v1' }),
      classifierBreakerKey('ws_a', { ...SETTINGS, credential: 'OTHER_KEY' }),
      classifierBreakerKey('ws_a', { provider: 'workers-ai', model: 'guard' }),
    ]);
    expect(keys.size).toBe(6);
    // A workspace id cannot be forged out of another's settings (the parts are JSON-quoted).
    expect(classifierBreakerKey('ws_a","anthropic', { ...SETTINGS, provider: 'openai-compatible' })).not.toBe(
      classifierBreakerKey('ws_a', SETTINGS),
    );
  });

  it('cells of one key share state across reads; other keys start closed', () => {
    const registry = breakerRegistry(8);
    registry.cell('a').write(OPEN);
    expect(registry.cell('a').read()).toEqual(OPEN);
    expect(registry.cell('b').read()).toEqual(CLOSED_BREAKER);
  });

  it('2. a closed breaker is not kept', () => {
    const registry = breakerRegistry(8);
    registry.cell('a').write(OPEN);
    registry.cell('a').write({ ...CLOSED_BREAKER });
    expect(registry.size).toBe(0);
    expect(registry.cell('a').read()).toEqual(CLOSED_BREAKER);
  });

  it('3. at most maxEntries: the least recently written goes first', () => {
    const registry = breakerRegistry(3);
    for (const key of ['a', 'b', 'c']) registry.cell(key).write(OPEN);
    registry.cell('a').write({ ...OPEN, failures: OPEN.failures + 1 }); // a is now the newest
    registry.cell('d').write(OPEN);
    expect(registry.size).toBe(3);
    expect(registry.cell('b').read()).toEqual(CLOSED_BREAKER);
    expect(registry.cell('a').read().failures).toBe(OPEN.failures + 1);
    expect(registry.cell('d').read()).toEqual(OPEN);
  });
});
