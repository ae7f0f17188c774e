import { canonicalJson, sha256Hex } from '../lib';
import type { AuditEvent } from './events';

/** prevHash of the first event in every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** What the hash covers: every stored field except the hash itself. */
export function eventHash(event: Omit<AuditEvent, 'hash'>): Promise<string> {
  return sha256Hex(
    canonicalJson({
      v: 1,
      id: event.id,
      workspaceId: event.workspaceId,
      seq: event.seq,
      kind: event.kind,
      actor: event.actor,
      data: event.data,
      createdAt: event.createdAt,
      prevHash: event.prevHash,
    }),
  );
}

export type ChainProblem =
  | { kind: 'edited'; seq: number; id: string }
  | { kind: 'missing'; fromSeq: number; toSeq: number }
  | { kind: 'relinked'; seq: number; id: string };

/** Running state, so a long chain can be verified page by page. */
export interface ChainCursor {
  nextSeq: number;
  lastHash: string;
  count: number;
  problems: ChainProblem[];
}

export function newChainCursor(): ChainCursor {
  return { nextSeq: 1, lastHash: GENESIS_HASH, count: 0, problems: [] };
}

/**
 * Feeds events (ordered by seq) into the cursor and records what is wrong:
 * - `edited`: the stored hash is not the hash of the stored fields;
 * - `missing`: a gap in seq, i.e. events deleted from the middle;
 * - `relinked`: prevHash does not name the hash of the event before it.
 * Deleting events from the end of a chain leaves no gap; an exported copy or the count
 * returned by an earlier verification is the anchor for that (docs/audit.md).
 */
export async function advanceChain(cursor: ChainCursor, events: readonly AuditEvent[]): Promise<ChainCursor> {
  let { nextSeq, lastHash, count } = cursor;
  const problems = [...cursor.problems];
  for (const event of events) {
    if (event.seq !== nextSeq) {
      problems.push({ kind: 'missing', fromSeq: nextSeq, toSeq: event.seq - 1 });
    } else if (event.prevHash !== lastHash) {
      problems.push({ kind: 'relinked', seq: event.seq, id: event.id });
    }
    if ((await eventHash(event)) !== event.hash) problems.push({ kind: 'edited', seq: event.seq, id: event.id });
    nextSeq = event.seq + 1;
    lastHash = event.hash;
    count++;
  }
  return { nextSeq, lastHash, count, problems };
}
