import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { INSTANCE_CHAIN } from '../../src/audit';
import { openSecret, rotateVault, sealSecret, type SecretRef } from '../../src/vault';
import { K1, K2, K3, newWorkspace, T0, vaultRowCount, withKeys } from './vault-support';

/**
 * Rotation runs over the whole vault_secrets table. Each test leaves every row it made
 * readable under the key it ends on, or deletes the rows it broke, so the next test starts
 * from a table whose envelopes all open.
 */
async function seed(keys: string, count: number) {
  const a = await newWorkspace('a');
  const b = await newWorkspace('b');
  const refs: { ref: SecretRef; value: string }[] = [];
  for (let i = 0; i < count; i++) {
    const workspaceId = i % 2 === 0 ? a : b;
    const ref: SecretRef =
      i % 3 === 0
        ? { workspaceId, ownerKind: 'connector', ownerId: `con_${i}`, name: 'BOT_TOKEN' }
        : { workspaceId, ownerKind: 'credential', ownerId: workspaceId, name: `KEY_${i}` };
    const value = `secret-value-number-${i}-${crypto.randomUUID()}`;
    const sealed = await sealSecret(withKeys(keys), ref, value, { now: T0 });
    if (!sealed.ok) throw new Error(sealed.problem.kind);
    refs.push({ ref, value });
  }
  return refs;
}

async function keyIdsInTable(): Promise<Record<string, number>> {
  const { results } = await env.DB.prepare('SELECT key_id, count(*) AS n FROM vault_secrets GROUP BY key_id ORDER BY key_id').all<{
    key_id: string;
    n: number;
  }>();
  return Object.fromEntries(results.map((r) => [r.key_id, r.n]));
}

async function rotatedEvents() {
  const { results } = await env.DB.prepare(
    "SELECT actor, data FROM audit_events WHERE workspace_id = ? AND kind = 'vault.rotated' ORDER BY seq",
  )
    .bind(INSTANCE_CHAIN)
    .all<{ actor: string; data: string }>();
  return results.map((r) => ({ actor: r.actor, ...(JSON.parse(r.data) as object) }));
}

describe('rotation: seal under k1, add k2 first, rotate, remove k1', () => {
  it('re-seals everything under k2 in resumable batches; after k1 is removed everything still opens', async () => {
    const rows = await seed(K1, 7);
    const auditBefore = (await rotatedEvents()).length;
    const rotating = withKeys(`${K2},${K1}`);

    // An interrupted run: one batch of 3, then the call ends (timeout, deploy, crash).
    const first = await rotateVault(rotating, { batchSize: 3, maxBatches: 1, actor: 'user:usr_owner', now: T0, sealedStores: [] });
    expect(first).toEqual({ ok: true, value: { resealed: 3, remaining: 4, unreadable: 0, activeKeyId: 'k2' } });
    expect(await keyIdsInTable()).toEqual({ k1: 4, k2: 3 });
    // While rotation is half done, both keys open (old envelopes under k1, new under k2).
    for (const { ref, value } of rows) expect(await openSecret(rotating, ref)).toEqual({ ok: true, value });

    // The rerun continues with what is left.
    const second = await rotateVault(rotating, { batchSize: 3, actor: 'user:usr_owner', now: T0 + 1, sealedStores: [] });
    expect(second).toEqual({ ok: true, value: { resealed: 4, remaining: 0, unreadable: 0, activeKeyId: 'k2' } });
    expect(await keyIdsInTable()).toEqual({ k2: 7 });
    const third = await rotateVault(rotating, { actor: 'system', now: T0 + 2, sealedStores: [] });
    expect(third).toEqual({ ok: true, value: { resealed: 0, remaining: 0, unreadable: 0, activeKeyId: 'k2' } });

    // k1 removed from the keyring: everything still opens.
    const k2Only = withKeys(K2);
    for (const { ref, value } of rows) expect(await openSecret(k2Only, ref)).toEqual({ ok: true, value });

    expect((await rotatedEvents()).slice(auditBefore)).toEqual([
      { actor: 'user:usr_owner', resealed: 3, remaining: 4, unreadable: 0, activeKeyId: 'k2' },
      { actor: 'user:usr_owner', resealed: 4, remaining: 0, unreadable: 0, activeKeyId: 'k2' },
      { actor: 'system', resealed: 0, remaining: 0, unreadable: 0, activeKeyId: 'k2' },
    ]);
  });

  it('a row sealed under a key that was removed is a tagged error, never plaintext, and keeps remaining above 0', async () => {
    // Everything so far is under k2 (previous test) or is made here under k3.
    const [orphan] = await seed(`${K3},${K2}`, 1);
    if (!orphan) throw new Error('seed');
    const k2Only = withKeys(K2);
    expect(await openSecret(k2Only, orphan.ref)).toEqual({ ok: false, problem: { kind: 'unknown-key', keyId: 'k3' } });
    const report = await rotateVault(k2Only, { actor: 'system', now: T0, sealedStores: [] });
    expect(report).toEqual({ ok: true, value: { resealed: 0, remaining: 1, unreadable: 1, activeKeyId: 'k2' } });
    // Re-adding the removed key makes the row readable and rotation finishes.
    const recovered = await rotateVault(withKeys(`${K2},${K3}`), { actor: 'system', now: T0, sealedStores: [] });
    expect(recovered.ok && recovered.value).toMatchObject({ resealed: 1, remaining: 0, unreadable: 0 });
    expect(await openSecret(k2Only, orphan.ref)).toEqual({ ok: true, value: orphan.value });
  });

  it('finds a row whose key_id column says "active" but whose envelope is under an old key', async () => {
    const [row] = await seed(`${K1},${K2}`, 1);
    if (!row) throw new Error('seed');
    await env.DB.prepare("UPDATE vault_secrets SET key_id = 'k2' WHERE owner_id = ? AND name = ?")
      .bind(row.ref.ownerId, row.ref.name)
      .run();
    const report = await rotateVault(withKeys(`${K2},${K1}`), { actor: 'system', now: T0, sealedStores: [] });
    expect(report.ok && report.value).toMatchObject({ resealed: 1, remaining: 0 });
    expect(await openSecret(withKeys(K2), row.ref)).toEqual({ ok: true, value: row.value });
  });

  it('refuses to run with a broken keyring and records nothing', async () => {
    const before = (await rotatedEvents()).length;
    expect(await rotateVault(withKeys(undefined), { actor: 'system', now: T0, sealedStores: [] })).toEqual({
      ok: false,
      problem: { kind: 'keyring-missing' },
    });
    expect((await rotatedEvents()).length).toBe(before);
  });
});

/**
 * A D1 binding whose first batch() (rotation's conditional re-seals of one batch) first runs
 * `interleave`: whatever it writes lands after rotation read the rows and before it writes
 * them back, the worst moment for a concurrent PUT. Everything else goes to the real binding.
 */
function dbWithWritesBeforeFirstBatch(interleave: () => Promise<void>): D1Database {
  let pending = true;
  return new Proxy(env.DB, {
    get(target, prop) {
      if (prop === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          if (pending) {
            pending = false;
            await interleave();
          }
          return target.batch(statements);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const refKey = (ref: SecretRef) => `${ref.workspaceId}/${ref.ownerKind}/${ref.ownerId}/${ref.name}`;

describe('rotation against concurrent PUTs (docs/vault.md "Safe against concurrent writes")', () => {
  it('a PUT between rotation reading a row and re-sealing it wins: every credential opens to its latest value, none lost', async () => {
    const rows = await seed(`${K1},${K2}`, 8);
    const countBefore = await vaultRowCount();
    const latest = new Map(rows.map(({ ref, value }) => [refKey(ref), value]));
    // Half the PUTs come from an isolate that already has the new keyring (sealed under k2),
    // half from one still on the old keyring (sealed under k1), as during a keyring roll-out.
    const racing = {
      ...withKeys(`${K2},${K1}`),
      DB: dbWithWritesBeforeFirstBatch(async () => {
        for (const [i, { ref }] of rows.entries()) {
          if (i % 2 === 1) continue;
          const value = `replaced-during-rotation-${i}-${crypto.randomUUID()}`;
          const sealed = await sealSecret(withKeys(i % 4 === 0 ? `${K2},${K1}` : `${K1},${K2}`), ref, value, { now: T0 + 5 });
          expect(sealed.ok).toBe(true);
          latest.set(refKey(ref), value);
        }
      }),
    };

    const report = await rotateVault(racing, { actor: 'system', now: T0 + 10, sealedStores: [] });
    // 4 rows re-sealed by rotation; the 4 replaced ones were left alone (their envelopes
    // changed), and the 2 replaced under the old key are still to do.
    expect(report).toEqual({ ok: true, value: { resealed: 4, remaining: 2, unreadable: 0, activeKeyId: 'k2' } });
    expect(await rotateVault(withKeys(`${K2},${K1}`), { actor: 'system', now: T0 + 11, sealedStores: [] })).toEqual({
      ok: true,
      value: { resealed: 2, remaining: 0, unreadable: 0, activeKeyId: 'k2' },
    });

    expect(await vaultRowCount()).toBe(countBefore);
    expect(latest.size).toBe(8);
    const k2Only = withKeys(K2);
    for (const { ref } of rows) expect(await openSecret(k2Only, ref)).toEqual({ ok: true, value: latest.get(refKey(ref)) });
  });

  it('rotation and 24 PUTs started together: afterwards every credential opens to its last written value', async () => {
    const rows = await seed(`${K1},${K2}`, 12);
    const countBefore = await vaultRowCount();
    const latest = new Map(rows.map(({ ref, value }) => [refKey(ref), value]));
    const rotating = withKeys(`${K2},${K1}`);
    // Each row gets two PUTs in sequence (the second is its latest value); the rows race each
    // other and the rotation (batches of 2, so there are many points to interleave). Which
    // interleaving happens is up to the runtime; the previous test forces the worst one.
    const puts = rows.map(async ({ ref }, i) => {
      for (const round of [1, 2]) {
        const value = `round-${round}-row-${i}-${crypto.randomUUID()}`;
        const sealed = await sealSecret(withKeys(i % 2 === 0 ? `${K2},${K1}` : `${K1},${K2}`), ref, value, { now: T0 + round });
        expect(sealed.ok).toBe(true);
        latest.set(refKey(ref), value);
      }
    });
    const [report] = await Promise.all([rotateVault(rotating, { batchSize: 2, actor: 'system', now: T0 + 3, sealedStores: [] }), ...puts]);
    expect(report.ok && report.value.unreadable).toBe(0);
    // Whatever the interleaving, a later call finishes the job and nothing was lost.
    expect(await rotateVault(rotating, { actor: 'system', now: T0 + 4, sealedStores: [] })).toMatchObject({
      ok: true,
      value: { remaining: 0, unreadable: 0 },
    });
    expect(await vaultRowCount()).toBe(countBefore);
    const k2Only = withKeys(K2);
    for (const { ref } of rows) expect(await openSecret(k2Only, ref)).toEqual({ ok: true, value: latest.get(refKey(ref)) });
  });
});
