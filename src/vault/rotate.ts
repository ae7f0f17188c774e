import { and, asc, gt, ne, or, sql } from 'drizzle-orm';
import { INSTANCE_CHAIN, recordAudit, type AuditBindings } from '../audit';
import { vaultSecrets } from '../db';
import { ENVELOPE_VERSION, openEnvelope, sealEnvelope, type OwnerKind } from './envelope';
import type { Keyring } from './keyring';
import { loadVault, type Vault, type VaultBindings } from './store';
import { ok, type VaultResult } from './problems';

export const DEFAULT_ROTATION_BATCH_SIZE = 100;
export const MAX_ROTATION_BATCH_SIZE = 500;
/** Batches per call: bounds one request's work; callers repeat until `remaining` is 0. */
export const DEFAULT_ROTATION_MAX_BATCHES = 10;

/** What one batch of a sealed store did (SealedStore.rotateBatch). */
export interface SealedBatch {
  /** Envelopes re-sealed under the active key. */
  resealed: number;
  /** Envelopes that could not be opened (counted in `remaining` too). */
  unreadable: number;
  /** Envelopes of what this batch reached that are still not under the active key. */
  remaining: number;
  /** Where the next batch goes on; null when this one reached the end of the store. */
  cursor: string | null;
}

/**
 * Sealed data outside vault_secrets that rotation must reach too: the conversation objects'
 * transcripts, queued channel messages and paused turns (src/conversations/rotation.ts).
 * Rotation runs the stores after the D1 rows, within the same `maxBatches`; each batch
 * handles about `batchSize` envelopes. The store decides what "pending" means for it; it
 * must never answer 0 for something it has not checked.
 */
export interface SealedStore {
  /** One batch after `cursor` (null: from the start), re-sealed under `keyring`'s active key. */
  rotateBatch(keyring: Keyring, batch: { batchSize: number; cursor: string | null }): Promise<SealedBatch>;
  /** What is still pending after `cursor` (null: the whole store), which this call will not reach. */
  pendingAfter(keyring: Keyring, cursor: string | null): Promise<number>;
}

export interface RotationOptions {
  /** Rows read and re-sealed per D1 round trip (1…MAX_ROTATION_BATCH_SIZE). */
  batchSize?: number;
  /** Stop after this many batches even if rows remain (the next call continues). */
  maxBatches?: number;
  /** Who asked, for the audit event: `user:<id>`, `api_key:<id>` or `system`. */
  actor: string;
  now: number;
  /** Sealed data outside vault_secrets, visited after it (app.ts wires the conversation objects). */
  sealedStores: readonly SealedStore[];
}

export interface RotationReport {
  /** Envelopes re-sealed under the active key by this call (D1 and the sealed stores). */
  resealed: number;
  /**
   * Envelopes still not under the active key after this call (0 = old keys may be removed):
   * D1's exactly, and the sealed stores' as each one counts them (docs/vault.md "Rotation").
   */
  remaining: number;
  /** Of those, envelopes this call could not open (key removed too early, tampered row). */
  unreadable: number;
  activeKeyId: string;
}

/**
 * A row still needs rotation when its key_id column or its envelope prefix is not the
 * active key. Checking both means a row whose column and envelope disagree (hand-edited,
 * or a write from an isolate with an older keyring) is still found.
 */
function notUnderActiveKey(activeKeyId: string) {
  const prefix = `${ENVELOPE_VERSION}.${activeKeyId}.`;
  return or(ne(vaultSecrets.keyId, activeKeyId), sql`substr(${vaultSecrets.envelope}, 1, ${prefix.length}) != ${prefix}`);
}

/**
 * Re-seals every envelope that is not under the active key, batch by batch, in id order,
 * then the sealed stores (the conversation objects) with the batches left.
 * Resumable by construction: it selects rows by "not under the active key", so after an
 * interruption (timeout, deploy, error) the next call simply finds what is left.
 * Each update is conditional on the envelope being unchanged, so a concurrent PUT is never
 * overwritten with the old value. Rows that cannot be opened are skipped and counted in
 * `unreadable`; they keep `remaining` above zero, which tells the operator not to drop keys.
 * Records `vault.rotated` on the instance audit chain.
 */
export async function rotateVault(env: VaultBindings & AuditBindings, options: RotationOptions): Promise<VaultResult<RotationReport>> {
  const loaded = await loadVault(env);
  if (!loaded.ok) return loaded;
  const vault: Vault = loaded.value;
  const { db, keyring } = vault;
  const batchSize = Math.min(Math.max(1, Math.trunc(options.batchSize ?? DEFAULT_ROTATION_BATCH_SIZE)), MAX_ROTATION_BATCH_SIZE);
  const maxBatches = Math.max(1, Math.trunc(options.maxBatches ?? DEFAULT_ROTATION_MAX_BATCHES));
  const pending = notUnderActiveKey(keyring.activeKeyId);

  let resealed = 0;
  let unreadable = 0;
  let afterId = '';
  let batches = 0;
  // True once the D1 part has reached its end within this call's batches.
  let d1Done = false;
  while (batches < maxBatches) {
    const rows = await db
      .select({
        id: vaultSecrets.id,
        workspaceId: vaultSecrets.workspaceId,
        ownerKind: vaultSecrets.ownerKind,
        ownerId: vaultSecrets.ownerId,
        name: vaultSecrets.name,
        envelope: vaultSecrets.envelope,
      })
      .from(vaultSecrets)
      .where(and(pending, gt(vaultSecrets.id, afterId)))
      .orderBy(asc(vaultSecrets.id))
      .limit(batchSize);
    if (rows.length === 0) {
      d1Done = true;
      break;
    }
    batches++;
    afterId = rows[rows.length - 1]?.id ?? afterId;

    const updates = [];
    for (const row of rows) {
      const ref = { workspaceId: row.workspaceId, ownerKind: row.ownerKind as OwnerKind, ownerId: row.ownerId, name: row.name };
      const opened = await openEnvelope(keyring, ref, row.envelope);
      if (!opened.ok) {
        unreadable++;
        continue;
      }
      const envelope = await sealEnvelope(keyring, ref, opened.value.plaintext);
      updates.push(
        db
          .update(vaultSecrets)
          .set({ envelope, keyId: keyring.activeKeyId })
          .where(and(sql`${vaultSecrets.id} = ${row.id}`, sql`${vaultSecrets.envelope} = ${row.envelope}`))
          .returning({ id: vaultSecrets.id }),
      );
    }
    const [first, ...rest] = updates;
    if (first) {
      const results = await db.batch([first, ...rest]);
      resealed += results.filter((changed) => changed.length > 0).length;
    }
    if (rows.length < batchSize) {
      d1Done = true;
      break;
    }
  }

  // The sealed stores, in order, with the batches left; a store this call does not reach (or
  // not to its end) still counts what it holds pending.
  let storesRemaining = 0;
  let reached = d1Done;
  for (const store of options.sealedStores) {
    let cursor: string | null = null;
    let atEnd = false;
    while (reached && batches < maxBatches) {
      const done: SealedBatch = await store.rotateBatch(keyring, { batchSize, cursor });
      batches++;
      resealed += done.resealed;
      unreadable += done.unreadable;
      storesRemaining += done.remaining;
      cursor = done.cursor;
      if (cursor === null) {
        atEnd = true;
        break;
      }
    }
    if (!atEnd) {
      storesRemaining += await store.pendingAfter(keyring, reached ? cursor : null);
      reached = false;
    }
  }

  const [counted] = await db
    .select({ n: sql<number>`count(*)` })
    .from(vaultSecrets)
    .where(pending);
  const report: RotationReport = {
    resealed,
    remaining: (counted?.n ?? 0) + storesRemaining,
    unreadable,
    activeKeyId: keyring.activeKeyId,
  };
  await recordAudit(env, { workspaceId: INSTANCE_CHAIN, kind: 'vault.rotated', actor: options.actor, data: report }, options.now);
  return ok(report);
}
