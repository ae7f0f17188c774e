import { openEnvelope, sealEnvelope, type Keyring, type SecretRef } from '../vault';
import type { ChannelJob, ConversationIdentity } from './types';

/**
 * The channel turns a Conversation object has taken and not yet answered, in its own SQLite
 * storage (docs/storage.md "Conversation"). A row outlives the object's eviction or restart:
 * the alarm finds it again. Each job is sealed with the workspace's vault key (the message
 * text and the reply handle, whose Discord interaction token or Slack response_url is itself a
 * short-lived credential); the seq, the start time and the lease token are not secret.
 */
export const CHANNEL_QUEUE_TABLE =
  'CREATE TABLE IF NOT EXISTS channel_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, envelope TEXT NOT NULL, started_at INTEGER, lease TEXT)';

/** Messages one conversation holds waiting; past it a new message is answered "busy" at once (a flood stays bounded). */
export const MAX_QUEUED_CHANNEL_TURNS = 20;

export interface QueuedRow {
  seq: number;
  jobId: string;
  envelope: string;
  /** Set when a turn started on it: a row found started by a fresh run was cut by an eviction or restart. */
  startedAt: number | null;
  /** The conversation lease that turn held, so the next run can free it (its holder is gone). */
  lease: string | null;
}

/** The envelope's place: bound to the conversation and to a random job id (AAD), so rows cannot be swapped. */
function jobRef(identity: ConversationIdentity, jobId: string): SecretRef {
  return { workspaceId: identity.workspaceId, ownerKind: 'conversation', ownerId: identity.conversationId, name: `queued:${jobId}` };
}

export function queueLength(sql: SqlStorage): number {
  return sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM channel_queue').one().n;
}

/** Seals and appends a job; false when the queue is full (nothing is written then). */
export async function pushJob(sql: SqlStorage, ring: Keyring, identity: ConversationIdentity, job: ChannelJob): Promise<boolean> {
  if (queueLength(sql) >= MAX_QUEUED_CHANNEL_TURNS) return false;
  const jobId = crypto.randomUUID();
  const envelope = await sealEnvelope(ring, jobRef(identity, jobId), JSON.stringify(job));
  // Checked again after the await: another message may have been queued meanwhile.
  if (queueLength(sql) >= MAX_QUEUED_CHANNEL_TURNS) return false;
  sql.exec('INSERT INTO channel_queue (job_id, envelope) VALUES (?, ?)', jobId, envelope);
  return true;
}

export function headJob(sql: SqlStorage): QueuedRow | null {
  const [row] = sql
    .exec<{
      seq: number;
      job_id: string;
      envelope: string;
      started_at: number | null;
      lease: string | null;
    }>('SELECT seq, job_id, envelope, started_at, lease FROM channel_queue ORDER BY seq LIMIT 1')
    .toArray();
  return row ? { seq: row.seq, jobId: row.job_id, envelope: row.envelope, startedAt: row.started_at, lease: row.lease } : null;
}

/** The job, or null when it no longer opens (its key left the keyring, tampering): it is then dropped, never guessed at. */
export async function openJob(ring: Keyring, identity: ConversationIdentity, row: QueuedRow): Promise<ChannelJob | null> {
  const opened = await openEnvelope(ring, jobRef(identity, row.jobId), row.envelope);
  return opened.ok ? (JSON.parse(opened.value.plaintext) as ChannelJob) : null;
}

export function markStarted(sql: SqlStorage, seq: number, at: number): void {
  sql.exec('UPDATE channel_queue SET started_at = ? WHERE seq = ?', at, seq);
}

export function noteLease(sql: SqlStorage, seq: number, token: string): void {
  sql.exec('UPDATE channel_queue SET lease = ? WHERE seq = ?', token, seq);
}

export function dropJob(sql: SqlStorage, seq: number): void {
  sql.exec('DELETE FROM channel_queue WHERE seq = ?', seq);
}
