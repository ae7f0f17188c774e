import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  deleteCredential,
  deleteSecret,
  getCredential,
  getSecret,
  listCredentials,
  listSecrets,
  openSecret,
  putCredential,
  sealSecret,
  type SecretRef,
} from '../../src/vault';
import { encodeBase64 } from '../../src/lib';
import { dumpDatabase, K1, newWorkspace, T0, vaultRowCount, withKeys } from './vault-support';

const VAULT = withKeys(K1);

function credential(workspaceId: string, name: string): SecretRef {
  return { workspaceId, ownerKind: 'credential', ownerId: workspaceId, name };
}

describe('sealSecret / openSecret', () => {
  it('creates, then replaces (keeping createdAt), and opens the latest value', async () => {
    const ws = await newWorkspace();
    const ref = credential(ws, 'API_KEY');
    const first = await sealSecret(VAULT, ref, 'first-value-0001', { now: T0, allowedHosts: ['api.example.com'] });
    expect(first.ok && first.value).toEqual({
      created: true,
      secret: { ...ref, masked: '••••0001', allowedHosts: ['api.example.com'], keyId: 'k1', createdAt: T0, updatedAt: T0 },
    });
    const second = await sealSecret(VAULT, ref, 'second-value-0002', { now: T0 + 5 });
    expect(second.ok && second.value).toEqual({
      created: false,
      secret: { ...ref, masked: '••••0002', allowedHosts: null, keyId: 'k1', createdAt: T0, updatedAt: T0 + 5 },
    });
    expect(await openSecret(VAULT, ref)).toEqual({ ok: true, value: 'second-value-0002' });
  });

  it('keeps secrets of the same name apart by workspace and owner', async () => {
    const a = await newWorkspace('a');
    const b = await newWorkspace('b');
    const connector: SecretRef = { workspaceId: a, ownerKind: 'connector', ownerId: 'con_1', name: 'BOT_TOKEN' };
    await sealSecret(VAULT, credential(a, 'BOT_TOKEN'), 'value-of-a-credential', { now: T0 });
    await sealSecret(VAULT, connector, 'value-of-a-connector', { now: T0 });
    await sealSecret(VAULT, credential(b, 'BOT_TOKEN'), 'value-of-b-credential', { now: T0 });
    expect(await openSecret(VAULT, credential(a, 'BOT_TOKEN'))).toEqual({ ok: true, value: 'value-of-a-credential' });
    expect(await openSecret(VAULT, connector)).toEqual({ ok: true, value: 'value-of-a-connector' });
    expect(await openSecret(VAULT, credential(b, 'BOT_TOKEN'))).toEqual({ ok: true, value: 'value-of-b-credential' });
    // b's name in a's workspace is simply absent: the same answer as any missing secret.
    expect(await openSecret(VAULT, { ...credential(b, 'BOT_TOKEN'), workspaceId: a })).toEqual({
      ok: false,
      problem: { kind: 'not-found' },
    });
    const listed = await listSecrets(VAULT, { workspaceId: a });
    expect(listed.ok && listed.value.map((s) => [s.ownerKind, s.name, s.masked])).toEqual([
      ['connector', 'BOT_TOKEN', '••••ctor'],
      ['credential', 'BOT_TOKEN', '••••tial'],
    ]);
  });

  it('refuses with keyring-missing and writes nothing when VAULT_KEYS is unset', async () => {
    const ws = await newWorkspace();
    const before = await vaultRowCount();
    expect(await sealSecret(withKeys(undefined), credential(ws, 'X_KEY'), 'never-stored-value', { now: T0 })).toEqual({
      ok: false,
      problem: { kind: 'keyring-missing' },
    });
    expect(await vaultRowCount()).toBe(before);
    expect(await dumpDatabase()).not.toContain('never-stored-value');
  });

  it('get, list and delete return masked views only; delete twice → not-found', async () => {
    const ws = await newWorkspace();
    const ref = credential(ws, 'DELETE_ME');
    await sealSecret(VAULT, ref, 'plaintext-for-views', { now: T0 });
    const got = await getSecret(VAULT, ref);
    const listed = await listSecrets(VAULT, { workspaceId: ws });
    expect(JSON.stringify([got, listed])).not.toContain('plaintext-for-views');
    expect(JSON.stringify([got, listed])).not.toContain('v1.k1.');
    expect(await deleteSecret(VAULT, ref)).toEqual({ ok: true, value: { deleted: true } });
    expect(await deleteSecret(VAULT, ref)).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await openSecret(VAULT, ref)).toEqual({ ok: false, problem: { kind: 'not-found' } });
  });
});

describe('an envelope moved between rows in D1 fails to open', () => {
  async function twoRows() {
    const a = await newWorkspace('a');
    const b = await newWorkspace('b');
    await sealSecret(VAULT, credential(a, 'GITHUB_TOKEN'), 'ghp_victim-token-of-workspace-a', { now: T0 });
    await sealSecret(VAULT, credential(b, 'GITHUB_TOKEN'), 'attacker-own-token', { now: T0 });
    await sealSecret(VAULT, credential(b, 'OTHER_NAME'), 'attacker-other-token', { now: T0 });
    return { a, b };
  }

  async function copyEnvelope(from: SecretRef, to: SecretRef) {
    await env.DB.prepare(
      `UPDATE vault_secrets SET envelope = (SELECT envelope FROM vault_secrets WHERE workspace_id = ? AND owner_kind = ? AND owner_id = ? AND name = ?)
       WHERE workspace_id = ? AND owner_kind = ? AND owner_id = ? AND name = ?`,
    )
      .bind(from.workspaceId, from.ownerKind, from.ownerId, from.name, to.workspaceId, to.ownerKind, to.ownerId, to.name)
      .run();
  }

  it("into another workspace's row of the same name → decrypt-failed", async () => {
    const { a, b } = await twoRows();
    await copyEnvelope(credential(a, 'GITHUB_TOKEN'), credential(b, 'GITHUB_TOKEN'));
    expect(await openSecret(VAULT, credential(b, 'GITHUB_TOKEN'))).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
    expect(await openSecret(VAULT, credential(a, 'GITHUB_TOKEN'))).toEqual({ ok: true, value: 'ghp_victim-token-of-workspace-a' });
  });

  it('into a row of another name in the same workspace → decrypt-failed', async () => {
    const { b } = await twoRows();
    await copyEnvelope(credential(b, 'GITHUB_TOKEN'), credential(b, 'OTHER_NAME'));
    expect(await openSecret(VAULT, credential(b, 'OTHER_NAME'))).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
  });

  it('by re-pointing the row itself (workspace_id or name rewritten) → decrypt-failed', async () => {
    const { a } = await twoRows();
    const c = await newWorkspace('c');
    await env.DB.prepare("UPDATE vault_secrets SET workspace_id = ?, owner_id = ? WHERE workspace_id = ? AND name = 'GITHUB_TOKEN'")
      .bind(c, c, a)
      .run();
    expect(await openSecret(VAULT, credential(c, 'GITHUB_TOKEN'))).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
    await env.DB.prepare("UPDATE vault_secrets SET name = 'RENAMED' WHERE workspace_id = ? AND name = 'GITHUB_TOKEN'").bind(c).run();
    expect(await openSecret(VAULT, credential(c, 'RENAMED'))).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
  });

  it('into a connector row (owner kind and id) → decrypt-failed', async () => {
    const { a } = await twoRows();
    const connector: SecretRef = { workspaceId: a, ownerKind: 'connector', ownerId: 'con_9', name: 'GITHUB_TOKEN' };
    await sealSecret(VAULT, connector, 'connector-value', { now: T0 });
    await copyEnvelope(credential(a, 'GITHUB_TOKEN'), connector);
    expect(await openSecret(VAULT, connector)).toEqual({ ok: false, problem: { kind: 'decrypt-failed' } });
  });
});

describe('credentials (the calls behind /api/v1/credentials)', () => {
  const KNOWN = 'ghp_KnownPlaintextValue0123456789abcdefXYZ';

  it('PUT GITHUB_TOKEN with a known value: the value is nowhere in D1 (every row of every table), in any view or in the audit log', async () => {
    const ws = await newWorkspace();
    const put = await putCredential(VAULT, {
      workspaceId: ws,
      name: 'GITHUB_TOKEN',
      value: KNOWN,
      allowedHosts: ['api.github.com'],
      actor: 'user:usr_1',
      now: T0,
    });
    expect(put).toEqual({
      ok: true,
      value: {
        created: true,
        credential: { name: 'GITHUB_TOKEN', masked: '••••fXYZ', allowedHosts: ['api.github.com'], createdAt: T0, updatedAt: T0 },
      },
    });
    const replaced = await putCredential(VAULT, { workspaceId: ws, name: 'GITHUB_TOKEN', value: KNOWN, actor: 'user:usr_1', now: T0 + 1 });
    expect(replaced.ok && replaced.value.created).toBe(false);
    const got = await getCredential(VAULT, ws, 'GITHUB_TOKEN');
    const listed = await listCredentials(VAULT, ws);
    expect(listed.ok && listed.value.map((c) => c.name)).toEqual(['GITHUB_TOKEN']);

    const dump = await dumpDatabase();
    expect(dump).toContain('vault_secrets:'); // the scan did read the vault table…
    expect(dump).toContain('"credential.put"'); // …and the audit log
    const forms = [KNOWN, KNOWN.slice(4, -4), encodeBase64(new TextEncoder().encode(KNOWN)), encodeURIComponent(KNOWN)];
    for (const form of forms) {
      expect(dump).not.toContain(form);
      expect(JSON.stringify([put, replaced, got, listed])).not.toContain(form);
    }
    // The plaintext is still there for internal callers.
    expect(await openSecret(VAULT, credential(ws, 'GITHUB_TOKEN'))).toEqual({ ok: true, value: KNOWN });
  });

  it('records credential.put and credential.deleted with the name only', async () => {
    const ws = await newWorkspace();
    await putCredential(VAULT, { workspaceId: ws, name: 'SLACK_TOKEN', value: 'xoxb-audited-value-000', actor: 'api_key:key_1', now: T0 });
    expect(await deleteCredential(VAULT, { workspaceId: ws, name: 'SLACK_TOKEN', actor: 'api_key:key_1', now: T0 + 1 })).toEqual({
      ok: true,
      value: { deleted: true },
    });
    expect(await deleteCredential(VAULT, { workspaceId: ws, name: 'SLACK_TOKEN', actor: 'api_key:key_1', now: T0 + 2 })).toEqual({
      ok: false,
      problem: { kind: 'not-found' },
    });
    const { results } = await env.DB.prepare('SELECT kind, actor, data FROM audit_events WHERE workspace_id = ? ORDER BY seq')
      .bind(ws)
      .all();
    expect(results).toEqual([
      { kind: 'credential.put', actor: 'api_key:key_1', data: JSON.stringify({ name: 'SLACK_TOKEN', created: true }) },
      { kind: 'credential.deleted', actor: 'api_key:key_1', data: JSON.stringify({ name: 'SLACK_TOKEN' }) },
    ]);
  });

  it('get of a missing credential → not-found; list of an empty workspace → []', async () => {
    const ws = await newWorkspace();
    expect(await getCredential(VAULT, ws, 'NOPE')).toEqual({ ok: false, problem: { kind: 'not-found' } });
    expect(await listCredentials(VAULT, ws)).toEqual({ ok: true, value: [] });
  });

  it('refuses every credential call when the keyring is broken, and writes nothing', async () => {
    const ws = await newWorkspace();
    const broken = withKeys('k1:c2hvcnQ=');
    const before = await dumpDatabase();
    const results = [
      await putCredential(broken, { workspaceId: ws, name: 'A_KEY', value: 'value-not-stored', actor: 'system', now: T0 }),
      await getCredential(broken, ws, 'A_KEY'),
      await listCredentials(broken, ws),
      await deleteCredential(broken, { workspaceId: ws, name: 'A_KEY', actor: 'system', now: T0 }),
    ];
    for (const result of results) expect(result).toEqual({ ok: false, problem: { kind: 'key-too-short', keyId: 'k1', bytes: 5 } });
    expect(await dumpDatabase()).toBe(before);
  });
});
