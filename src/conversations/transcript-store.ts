import { openEnvelope, sealEnvelope, type Keyring, type SecretRef } from '../vault';
import { compactionCut, MAX_TRANSCRIPT_BYTES, MAX_TRANSCRIPT_MESSAGES } from './compaction';
import type { ConversationIdentity, StoredMessage } from './types';

/**
 * The transcript in a Conversation object's SQLite storage: one row per entry, sealed with
 * the workspace's vault key (the vault's own envelope, AAD bound to this conversation and
 * entry), bounded by message count and bytes (compaction.ts).
 */
export const MESSAGES_TABLE =
  'CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, role TEXT NOT NULL, at_ms INTEGER NOT NULL, bytes INTEGER NOT NULL, envelope TEXT NOT NULL)';

const encoder = new TextEncoder();

/** Where a conversation's sealed value lives in the vault's AAD terms. */
export function conversationRef(identity: ConversationIdentity, name: string): SecretRef {
  return { workspaceId: identity.workspaceId, ownerKind: 'conversation', ownerId: identity.conversationId, name };
}

/**
 * Every entry that opens, in order. An entry that no longer opens (key removed from the
 * keyring, tampering) is left out, never guessed at; one under an older key is sealed again
 * under the active one as it is read (lazy rotation; only if unchanged meanwhile).
 */
export async function readTranscript(sql: SqlStorage, ring: Keyring, identity: ConversationIdentity): Promise<StoredMessage[]> {
  const rows = sql.exec<{ seq: number; envelope: string }>('SELECT seq, envelope FROM messages ORDER BY seq').toArray();
  const out: StoredMessage[] = [];
  const resealed: Array<{ seq: number; from: string; to: string }> = [];
  for (const row of rows) {
    const ref = conversationRef(identity, `message:${row.seq}`);
    const opened = await openEnvelope(ring, ref, row.envelope);
    if (!opened.ok) continue;
    out.push(JSON.parse(opened.value.plaintext) as StoredMessage);
    if (opened.value.keyId !== ring.activeKeyId)
      resealed.push({ seq: row.seq, from: row.envelope, to: await sealEnvelope(ring, ref, opened.value.plaintext) });
  }
  // Only if unchanged meanwhile (compaction may have dropped it).
  for (const r of resealed) sql.exec('UPDATE messages SET envelope = ? WHERE seq = ? AND envelope = ?', r.to, r.seq, r.from);
  return out;
}

/**
 * Seals `entries` (one by one, awaiting the cipher), then — after `stillHeld` confirms the
 * caller's lease again — stores them and compacts: the oldest whole exchanges go first.
 */
export async function appendToTranscript(
  sql: SqlStorage,
  ring: Keyring,
  identity: ConversationIdentity,
  entries: StoredMessage[],
  stillHeld: () => void,
): Promise<void> {
  const sealed: Array<{ seq: number; role: string; bytes: number; envelope: string }> = [];
  let seq = (sql.exec<{ m: number | null }>('SELECT MAX(seq) AS m FROM messages').one().m ?? 0) + 1;
  for (const entry of entries) {
    const text = JSON.stringify(entry);
    const envelope = await sealEnvelope(ring, conversationRef(identity, `message:${seq}`), text);
    sealed.push({ seq, role: entry.role, bytes: encoder.encode(text).byteLength, envelope });
    seq++;
  }
  stillHeld();
  for (const row of sealed)
    sql.exec(
      'INSERT INTO messages (seq, role, at_ms, bytes, envelope) VALUES (?, ?, ?, ?, ?)',
      row.seq,
      row.role,
      Date.now(),
      row.bytes,
      row.envelope,
    );
  // The role is not secret (user / assistant / tool): kept in clear so compaction needs no decryption.
  const rows = sql.exec<{ seq: number; bytes: number; role: string }>('SELECT seq, bytes, role FROM messages ORDER BY seq').toArray();
  const cut = compactionCut(rows, { maxMessages: MAX_TRANSCRIPT_MESSAGES, maxBytes: MAX_TRANSCRIPT_BYTES });
  if (cut !== null) sql.exec('DELETE FROM messages WHERE seq < ?', cut);
}
