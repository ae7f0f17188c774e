import { describe, expect, it } from 'vitest';
import { compactionCut } from './compaction';

const entry = (seq: number, role: string, bytes = 10) => ({ seq, role, bytes });
const exchange = (start: number) => [
  entry(start, 'user'),
  entry(start + 1, 'assistant'),
  entry(start + 2, 'tool'),
  entry(start + 3, 'assistant'),
];

describe('transcript compaction', () => {
  it('keeps a transcript within both bounds as it is', () => {
    expect(compactionCut([...exchange(1), ...exchange(5)], { maxMessages: 8, maxBytes: 80 })).toBeNull();
  });

  it('drops the oldest whole exchanges when over the message count, cutting only at a user entry', () => {
    const entries = [...exchange(1), ...exchange(5), ...exchange(9)];
    expect(compactionCut(entries, { maxMessages: 8, maxBytes: 10_000 })).toBe(5);
    expect(compactionCut(entries, { maxMessages: 5, maxBytes: 10_000 })).toBe(9);
  });

  it('drops by bytes too, and never keeps a tool result without the call before it', () => {
    const entries = [entry(1, 'user', 100), entry(2, 'assistant', 100), entry(3, 'tool', 5000), entry(4, 'assistant'), ...exchange(5)];
    const cut = compactionCut(entries, { maxMessages: 100, maxBytes: 1000 });
    expect(cut).toBe(5);
    expect(entries.find((e) => e.seq === cut)?.role).toBe('user');
  });

  it('always keeps the newest exchange, even when it alone is over a bound', () => {
    const entries = [...exchange(1), entry(5, 'user', 10_000), entry(6, 'assistant', 10_000)];
    expect(compactionCut(entries, { maxMessages: 3, maxBytes: 100 })).toBe(5);
    expect(compactionCut([entry(1, 'user', 10_000)], { maxMessages: 1, maxBytes: 100 })).toBeNull();
  });
});
