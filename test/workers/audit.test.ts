import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { aheadOfRealNow } from './clock';
import { recordAudit, verifyAuditChain, MAX_FIELD_BYTES, MAX_LINE_BYTES, TRUNCATION_MARKER } from '../../src/audit';

const T0 = aheadOfRealNow();

/** Simulates an attacker with raw database access: the append-only triggers are dropped first. */
async function tamper(sql: string, ...params: unknown[]): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('DROP TRIGGER IF EXISTS audit_events_no_update'),
    env.DB.prepare('DROP TRIGGER IF EXISTS audit_events_no_delete'),
    env.DB.prepare(sql).bind(...params),
  ]);
}

async function seedChain(workspaceId: string, count: number) {
  const events = [];
  for (let i = 0; i < count; i++) {
    events.push(await recordAudit(env, { workspaceId, kind: 'api_key.revoked', actor: 'system', data: { keyId: `key_${i}` } }, T0 + i));
  }
  return events;
}

describe('audit hash chain', () => {
  it('links every event to the previous one and verifies clean', async () => {
    const events = await seedChain('ws_clean', 5);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events[1]?.prevHash).toBe(events[0]?.hash);
    expect(await verifyAuditChain(env.DB, 'ws_clean')).toEqual({ ok: true, count: 5 });
  });

  it('keeps chains of different workspaces apart', async () => {
    await seedChain('ws_a', 2);
    await seedChain('ws_b', 3);
    expect(await verifyAuditChain(env.DB, 'ws_a')).toEqual({ ok: true, count: 2 });
    expect(await verifyAuditChain(env.DB, 'ws_b')).toEqual({ ok: true, count: 3 });
  });

  it('refuses UPDATE and DELETE through the binding (append-only triggers)', async () => {
    const [first] = await seedChain('ws_triggers', 1);
    await expect(env.DB.prepare('UPDATE audit_events SET actor = ? WHERE id = ?').bind('user:mallory', first?.id).run()).rejects.toThrow(
      /append-only/,
    );
    await expect(env.DB.prepare('DELETE FROM audit_events WHERE id = ?').bind(first?.id).run()).rejects.toThrow(/append-only/);
  });

  it('reports both an edited event and a deleted one', async () => {
    const events = await seedChain('ws_tampered', 6);
    await tamper('UPDATE audit_events SET data = ? WHERE id = ?', JSON.stringify({ keyId: 'key_forged' }), events[1]?.id);
    await tamper('DELETE FROM audit_events WHERE id = ?', events[3]?.id);

    const verdict = await verifyAuditChain(env.DB, 'ws_tampered');
    expect(verdict.ok).toBe(false);
    expect(verdict.count).toBe(5);
    expect(verdict.ok === false && verdict.problems).toEqual([
      { kind: 'edited', seq: 2, id: events[1]?.id },
      { kind: 'missing', fromSeq: 4, toSeq: 4 },
    ]);
  });

  it('detects an edit that also recomputes the edited event hash (the next link breaks)', async () => {
    const events = await seedChain('ws_rehashed', 3);
    await tamper('UPDATE audit_events SET hash = ? WHERE id = ?', 'f'.repeat(64), events[0]?.id);
    const verdict = await verifyAuditChain(env.DB, 'ws_rehashed');
    expect(verdict.ok === false && verdict.problems.map((p) => p.kind)).toEqual(['edited', 'relinked']);
  });

  it('does not lose or fork events appended concurrently to one chain', async () => {
    const writes = Array.from({ length: 20 }, (_, i) =>
      recordAudit(env, { workspaceId: 'ws_race', kind: 'api_key.revoked', actor: 'system', data: { keyId: `k${i}` } }, T0),
    );
    const events = await Promise.all(writes);
    expect(new Set(events.map((e) => e.seq)).size).toBe(20);
    expect(await verifyAuditChain(env.DB, 'ws_race')).toEqual({ ok: true, count: 20 });
  });

  it('writes 200 appends in flight (several group-commit batches) as seq 1..200 in the order they arrived', async () => {
    const writes = Array.from({ length: 200 }, (_, i) =>
      recordAudit(env, { workspaceId: 'ws_burst', kind: 'api_key.revoked', actor: 'system', data: { keyId: `k${i}` } }, T0 + i),
    );
    const events = await Promise.all(writes);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(events.map((e) => JSON.parse(e.data).keyId)).toEqual(Array.from({ length: 200 }, (_, i) => `k${i}`));
    expect(await verifyAuditChain(env.DB, 'ws_burst')).toEqual({ ok: true, count: 200 });
  });

  it('an append whose data cannot be written fails alone: the others of its batch land with seqs that leave no gap', async () => {
    const cyclic: Record<string, unknown> = { keyId: 'loop' };
    cyclic.self = cyclic;
    const settled = await Promise.allSettled([
      recordAudit(env, { workspaceId: 'ws_one_bad', kind: 'api_key.revoked', actor: 'system', data: { keyId: 'before' } }, T0),
      recordAudit(env, { workspaceId: 'ws_one_bad', kind: 'api_key.revoked', actor: 'system', data: cyclic as never }, T0 + 1),
      recordAudit(env, { workspaceId: 'ws_one_bad', kind: 'api_key.revoked', actor: 'system', data: { keyId: 'after' } }, T0 + 2),
    ]);
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const landed = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(landed.map((e) => [e.seq, JSON.parse(e.data).keyId])).toEqual([
      [1, 'before'],
      [2, 'after'],
    ]);
    expect(await verifyAuditChain(env.DB, 'ws_one_bad')).toEqual({ ok: true, count: 2 });
  });

  it('lands a batch whole or not at all: a batch that collides with a foreign row fails every caller in it and writes none of it', async () => {
    const seeded = await seedChain('ws_atomic', 1);
    // Another writer (an attacker with raw access, say) takes seq 3 behind the chain's back.
    await env.DB.prepare(
      "INSERT INTO audit_events (id, workspace_id, seq, kind, actor, data, created_at, prev_hash, hash) VALUES ('evt_foreign', 'ws_atomic', 3, 'api_key.revoked', 'system', '{}', ?, ?, ?)",
    )
      .bind(T0, '0'.repeat(64), 'f'.repeat(64))
      .run();
    const settled = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) =>
        recordAudit(env, { workspaceId: 'ws_atomic', kind: 'api_key.revoked', actor: 'system', data: { keyId: `a${i}` } }, T0 + i),
      ),
    );
    const landed = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    // However the five were batched, the one holding seq 3 collides, and its whole batch with it.
    expect(landed.length).toBeLessThan(5);
    const rows = await env.DB.prepare("SELECT id FROM audit_events WHERE workspace_id = 'ws_atomic' AND id != 'evt_foreign'").all<{
      id: string;
    }>();
    expect(rows.results.map((r) => r.id).sort()).toEqual([...seeded, ...landed].map((e) => e.id).sort());
  });
});

describe('audit event bounds', () => {
  it('truncates free-text fields to 1 KiB with a marker and keeps each line within 4 KiB', async () => {
    const event = await recordAudit(
      env,
      { workspaceId: 'ws_bounds', kind: 'workspace.created', actor: 'system', data: { workspaceId: 'ws_x', name: 'é'.repeat(5000) } },
      T0,
    );
    const data = JSON.parse(event.data) as { name: string };
    expect(data.name.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(new TextEncoder().encode(data.name).length).toBeLessThanOrEqual(MAX_FIELD_BYTES);
    expect(new TextEncoder().encode(JSON.stringify(event)).length).toBeLessThanOrEqual(MAX_LINE_BYTES);
  });

  it('keeps a line within 4 KiB even when many fields are each under the field cap', async () => {
    const scopes = Array.from({ length: 200 }, (_, i) => `scope-${i}-${'y'.repeat(40)}`);
    const event = await recordAudit(
      env,
      {
        workspaceId: 'ws_bounds2',
        kind: 'api_key.created',
        actor: 'system',
        data: { keyId: 'k', name: 'n'.repeat(1000), scopes, expiresAt: null },
      },
      T0,
    );
    expect(new TextEncoder().encode(JSON.stringify(event)).length).toBeLessThanOrEqual(MAX_LINE_BYTES);
  });
});

describe('secrets never enter an audit event', () => {
  const secrets = [
    'pcl_4xQ9bL2mN7pR1sT5vW8yZ0aC3dF6gH9jK2mN5pQ8rS1',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'AKIAIOSFODNN7EXAMPLE',
    'xoxb-123456789012-abcdefghijklmnop',
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
  ];

  it.each(secrets)('redacts a token shape smuggled into a free-text field: %s', async (secret) => {
    const event = await recordAudit(
      env,
      {
        workspaceId: 'ws_secrets',
        kind: 'workspace.created',
        actor: 'system',
        data: { workspaceId: 'ws', name: `before ${secret} after` },
      },
      T0,
    );
    const [stored] = await env.DB.prepare('SELECT * FROM audit_events WHERE id = ?').bind(event.id).raw();
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(JSON.stringify(stored)).toContain('[REDACTED]');
  });
});
