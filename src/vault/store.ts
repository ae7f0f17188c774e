import { and, eq } from 'drizzle-orm';
import { createDb, newId, vaultSecrets, type Database } from '../db';
import type { Env } from '../env';
import { openEnvelope, sealEnvelope, type OwnerKind, type SecretRef } from './envelope';
import { keyringFor, type Keyring } from './keyring';
import { maskSecret } from './mask';
import { fail, ok, type VaultResult } from './problems';

/** The bindings the vault reads. */
export type VaultBindings = Pick<Env, 'DB' | 'VAULT_KEYS'>;

/** A ready vault: a D1 handle and a keyring that parsed. Made by loadVault (cheap after the first call per isolate). */
export interface Vault {
  readonly db: Database;
  readonly keyring: Keyring;
}

/** Either a ready Vault or the bindings to make one (the keyring is then checked on the spot). */
export type VaultDeps = Vault | VaultBindings;

export async function loadVault(env: VaultBindings): Promise<VaultResult<Vault>> {
  const keyring = await keyringFor(env.VAULT_KEYS);
  if (!keyring.ok) return keyring;
  return ok({ db: createDb(env.DB), keyring: keyring.value });
}

async function resolve(deps: VaultDeps): Promise<VaultResult<Vault>> {
  return 'keyring' in deps ? ok(deps) : loadVault(deps);
}

/** What callers outside the vault may see of a secret: never the value, never the envelope. */
export interface SecretView {
  workspaceId: string;
  ownerKind: OwnerKind;
  ownerId: string;
  name: string;
  masked: string;
  allowedHosts: string[] | null;
  /** Keyring id the secret is sealed under (not secret; shows rotation progress). */
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

const viewColumns = {
  workspaceId: vaultSecrets.workspaceId,
  ownerKind: vaultSecrets.ownerKind,
  ownerId: vaultSecrets.ownerId,
  name: vaultSecrets.name,
  masked: vaultSecrets.masked,
  allowedHosts: vaultSecrets.allowedHosts,
  keyId: vaultSecrets.keyId,
  createdAt: vaultSecrets.createdAt,
  updatedAt: vaultSecrets.updatedAt,
};

type ViewRow = Pick<typeof vaultSecrets.$inferSelect, keyof typeof viewColumns>;

function toView(row: ViewRow): SecretView {
  return { ...row, ownerKind: row.ownerKind as OwnerKind, allowedHosts: row.allowedHosts ?? null };
}

function matchesRef(ref: SecretRef) {
  return and(
    eq(vaultSecrets.workspaceId, ref.workspaceId),
    eq(vaultSecrets.ownerKind, ref.ownerKind),
    eq(vaultSecrets.ownerId, ref.ownerId),
    eq(vaultSecrets.name, ref.name),
  );
}

export interface SealOptions {
  /** Hosts the secret may be sent to; omitted or null = not bound. Replaces any earlier value. */
  allowedHosts?: string[] | null;
  now: number;
}

/**
 * Seals `value` at `ref`, creating the row or replacing its value, mask, key id and
 * allowedHosts (a PUT: the whole secret is replaced; createdAt is kept). Only the envelope
 * and the mask reach D1.
 */
export async function sealSecret(
  deps: VaultDeps,
  ref: SecretRef,
  value: string,
  options: SealOptions,
): Promise<VaultResult<{ created: boolean; secret: SecretView }>> {
  const vault = await resolve(deps);
  if (!vault.ok) return vault;
  const { db, keyring } = vault.value;
  const envelope = await sealEnvelope(keyring, ref, value);
  const id = newId('sec');
  const fields = {
    envelope,
    keyId: keyring.activeKeyId,
    masked: maskSecret(value),
    allowedHosts: options.allowedHosts ?? null,
    updatedAt: options.now,
  };
  const [row] = await db
    .insert(vaultSecrets)
    .values({ id, ...ref, ...fields, createdAt: options.now })
    .onConflictDoUpdate({
      target: [vaultSecrets.workspaceId, vaultSecrets.ownerKind, vaultSecrets.ownerId, vaultSecrets.name],
      set: fields,
    })
    .returning({ id: vaultSecrets.id, ...viewColumns });
  if (!row) throw new Error('vault: upsert returned no row');
  const { id: storedId, ...view } = row;
  return ok({ created: storedId === id, secret: toView(view) });
}

/**
 * The plaintext of the secret at `ref`, for internal callers only (credential injection,
 * connector clients). Never put the result in a response, a log line or an audit event.
 */
export async function openSecret(deps: VaultDeps, ref: SecretRef): Promise<VaultResult<string>> {
  const vault = await resolve(deps);
  if (!vault.ok) return vault;
  const [row] = await vault.value.db.select({ envelope: vaultSecrets.envelope }).from(vaultSecrets).where(matchesRef(ref)).limit(1);
  return openFetchedSecret(vault.value, ref, row?.envelope ?? null);
}

/**
 * Opens an envelope a caller read in its own query: a join that fetched the secret's row
 * together with the row it belongs to, in one round trip (the webhook's connector lookup).
 * `ref` must be what the row was selected by: it is the envelope's AAD, so an envelope read
 * from another row does not open. null (the join found no row) is not-found.
 */
export async function openFetchedSecret(deps: VaultDeps, ref: SecretRef, envelope: string | null): Promise<VaultResult<string>> {
  if (envelope === null) return fail({ kind: 'not-found' });
  const vault = await resolve(deps);
  if (!vault.ok) return vault;
  const opened = await openEnvelope(vault.value.keyring, ref, envelope);
  return opened.ok ? ok(opened.value.plaintext) : opened;
}

export async function getSecret(deps: VaultDeps, ref: SecretRef): Promise<VaultResult<SecretView>> {
  const vault = await resolve(deps);
  if (!vault.ok) return vault;
  const [row] = await vault.value.db.select(viewColumns).from(vaultSecrets).where(matchesRef(ref)).limit(1);
  return row ? ok(toView(row)) : fail({ kind: 'not-found' });
}

/** Masked views of a workspace's secrets, optionally of one owner, ordered by name. */
export async function listSecrets(
  deps: VaultDeps,
  filter: { workspaceId: string; ownerKind?: OwnerKind; ownerId?: string },
): Promise<VaultResult<SecretView[]>> {
  const vault = await resolve(deps);
  if (!vault.ok) return vault;
  const rows = await vault.value.db
    .select(viewColumns)
    .from(vaultSecrets)
    .where(
      and(
        eq(vaultSecrets.workspaceId, filter.workspaceId),
        filter.ownerKind === undefined ? undefined : eq(vaultSecrets.ownerKind, filter.ownerKind),
        filter.ownerId === undefined ? undefined : eq(vaultSecrets.ownerId, filter.ownerId),
      ),
    )
    .orderBy(vaultSecrets.ownerKind, vaultSecrets.ownerId, vaultSecrets.name);
  return ok(rows.map(toView));
}

/** Deletes the secret at `ref`; not-found when there was none. */
export async function deleteSecret(deps: VaultDeps, ref: SecretRef): Promise<VaultResult<{ deleted: true }>> {
  const vault = await resolve(deps);
  if (!vault.ok) return vault;
  const deleted = await vault.value.db.delete(vaultSecrets).where(matchesRef(ref)).returning({ id: vaultSecrets.id });
  return deleted.length > 0 ? ok({ deleted: true }) : fail({ kind: 'not-found' });
}

/** Plaintexts of every secret a workspace holds, for redaction. Unreadable rows are reported, not skipped silently. */
export async function openWorkspaceSecrets(
  deps: VaultDeps,
  workspaceId: string,
): Promise<VaultResult<{ values: string[]; unreadable: number }>> {
  const vault = await resolve(deps);
  if (!vault.ok) return vault;
  const rows = await vault.value.db
    .select({ ownerKind: vaultSecrets.ownerKind, ownerId: vaultSecrets.ownerId, name: vaultSecrets.name, envelope: vaultSecrets.envelope })
    .from(vaultSecrets)
    .where(eq(vaultSecrets.workspaceId, workspaceId));
  const values: string[] = [];
  let unreadable = 0;
  for (const row of rows) {
    const ref = { workspaceId, ownerKind: row.ownerKind as OwnerKind, ownerId: row.ownerId, name: row.name };
    const opened = await openEnvelope(vault.value.keyring, ref, row.envelope);
    if (opened.ok) values.push(opened.value.plaintext);
    else unreadable++;
  }
  return ok({ values, unreadable });
}
