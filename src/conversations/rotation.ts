import { createDb } from '../db';
import type { Env } from '../env';
import type { Keyring, SealedBatch, SealedStore } from '../vault';
import { conversationStub, countPendingConversations, pendingConversations } from './store';

/**
 * Vault rotation's reach into the Conversation objects (docs/vault.md "Rotation", wired in
 * app.ts). The registry is D1's `conversations` table: one row per conversation object (made
 * before the object is first used, deleted after its storage on conversation or agent
 * delete), with `vault_key_id`, the key the object last confirmed all its sealed rows under.
 *
 * A batch takes the pending rows after the cursor in id order and makes one call to each
 * object (`rotateSealed`: the re-seal runs inside the object, ordered with its turns), until
 * about `batchSize` envelopes were handled or `batchSize` objects visited. An object counts
 * for its real envelopes once visited; one not reached in this call counts as 1 (it holds at
 * least its registry entry to check), so `remaining` is 0 only when every object confirmed.
 */
export function conversationSealedStore(env: Pick<Env, 'DB' | 'CONVERSATION'>): SealedStore {
  const db = createDb(env.DB);
  return {
    async rotateBatch(keyring: Keyring, { batchSize, cursor }): Promise<SealedBatch> {
      const rows = await pendingConversations(db, keyring.activeKeyId, cursor, batchSize);
      const done: SealedBatch = { resealed: 0, unreadable: 0, remaining: 0, cursor };
      let handled = 0;
      for (const [index, row] of rows.entries()) {
        const object = await conversationStub(env, row.id).rotateSealed(
          { workspaceId: row.workspaceId, agentId: row.agentId, conversationId: row.id },
          keyring.activeKeyId,
        );
        done.resealed += object.resealed;
        done.unreadable += object.unreadable;
        done.remaining += object.remaining;
        done.cursor = row.id;
        handled += Math.max(1, object.resealed + object.unreadable);
        // An object is visited whole (at most a few hundred rows: the transcript bounds), then the budget is checked.
        if (handled >= batchSize && index < rows.length - 1) return done;
      }
      // Fewer rows than asked for: this was the end of the registry.
      if (rows.length < batchSize) done.cursor = null;
      return done;
    },
    pendingAfter: (keyring, cursor) => countPendingConversations(db, keyring.activeKeyId, cursor),
  };
}
