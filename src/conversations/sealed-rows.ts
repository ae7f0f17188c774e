import { ENVELOPE_VERSION, openEnvelope, sealEnvelope, type Keyring, type SecretRef } from '../vault';
import type { ConversationIdentity } from './types';

/**
 * Every sealed row a Conversation object keeps (docs/storage.md "Conversation"), for vault
 * rotation: transcript entries (`message:<seq>`), queued channel jobs (`queued:<job_id>`), the
 * paused turn (`paused`) and its copy while a resumed turn runs (`resume-paused`, sealed as `paused`). Plain functions over the object's SQLite; the object calls them
 * inside one RPC (conversation-object.ts rotateSealed), so its own turns are ordered around them.
 */

export interface SealedRowsRotation {
  resealed: number;
  unreadable: number;
  /** Rows still not under the wanted key after this call (unreadable ones included). */
  remaining: number;
}

interface SealedRow {
  name: string;
  envelope: string;
  /** Writes the new envelope only if the row still holds `from` (a turn may have replaced or dropped it); answers rows written. */
  write(from: string, to: string): number;
}

function prefixOf(keyId: string): string {
  return `${ENVELOPE_VERSION}.${keyId}.`;
}

/** Sealed rows whose envelope does not start with `v1.<keyId>.` (no decryption: the prefix names the key). */
export function countNotUnder(sql: SqlStorage, keyId: string): number {
  const prefix = prefixOf(keyId);
  const n = prefix.length;
  return sql
    .exec<{ n: number }>(
      `SELECT (SELECT count(*) FROM messages WHERE substr(envelope, 1, ?) != ?)
            + (SELECT count(*) FROM channel_queue WHERE substr(envelope, 1, ?) != ?)
            + (SELECT count(*) FROM meta WHERE key IN ('paused', 'resume-paused') AND substr(value, 1, ?) != ?) AS n`,
      n,
      prefix,
      n,
      prefix,
      n,
      prefix,
    )
    .one().n;
}

function rowsNotUnder(sql: SqlStorage, keyId: string): SealedRow[] {
  const prefix = prefixOf(keyId);
  const n = prefix.length;
  const rows: SealedRow[] = [];
  for (const row of sql
    .exec<{ seq: number; envelope: string }>('SELECT seq, envelope FROM messages WHERE substr(envelope, 1, ?) != ? ORDER BY seq', n, prefix)
    .toArray())
    rows.push({
      name: `message:${row.seq}`,
      envelope: row.envelope,
      write: (from, to) => sql.exec('UPDATE messages SET envelope = ? WHERE seq = ? AND envelope = ?', to, row.seq, from).rowsWritten,
    });
  for (const row of sql
    .exec<{
      seq: number;
      job_id: string;
      envelope: string;
    }>('SELECT seq, job_id, envelope FROM channel_queue WHERE substr(envelope, 1, ?) != ? ORDER BY seq', n, prefix)
    .toArray())
    rows.push({
      name: `queued:${row.job_id}`,
      envelope: row.envelope,
      write: (from, to) => sql.exec('UPDATE channel_queue SET envelope = ? WHERE seq = ? AND envelope = ?', to, row.seq, from).rowsWritten,
    });
  // The paused turn, and the copy of it a resumed turn keeps while it runs (both sealed under the name `paused`).
  for (const row of sql
    .exec<{
      key: string;
      value: string;
    }>("SELECT key, value FROM meta WHERE key IN ('paused', 'resume-paused') AND substr(value, 1, ?) != ?", n, prefix)
    .toArray())
    rows.push({
      name: 'paused',
      envelope: row.value,
      write: (from, to) => sql.exec('UPDATE meta SET value = ? WHERE key = ? AND value = ?', to, row.key, from).rowsWritten,
    });
  return rows;
}

/**
 * Re-seals every sealed row not under the ring's active key. Each write is conditional on the
 * row being unchanged, so a row a turn dropped (compaction, a finished job, a resumed pause)
 * meanwhile stays dropped; rows a turn adds are sealed under the active key already. A row
 * that does not open (its key left the keyring, tampering) is counted, never rewritten.
 */
export async function resealRows(sql: SqlStorage, ring: Keyring, identity: ConversationIdentity): Promise<SealedRowsRotation> {
  let resealed = 0;
  let unreadable = 0;
  for (const row of rowsNotUnder(sql, ring.activeKeyId)) {
    const ref: SecretRef = {
      workspaceId: identity.workspaceId,
      ownerKind: 'conversation',
      ownerId: identity.conversationId,
      name: row.name,
    };
    const opened = await openEnvelope(ring, ref, row.envelope);
    if (!opened.ok) {
      unreadable++;
      continue;
    }
    resealed += row.write(row.envelope, await sealEnvelope(ring, ref, opened.value.plaintext));
  }
  return { resealed, unreadable, remaining: countNotUnder(sql, ring.activeKeyId) };
}
