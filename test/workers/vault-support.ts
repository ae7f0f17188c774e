import { env } from 'cloudflare:workers';
import { aheadOfRealNow } from './clock';
import { encodeBase64 } from '../../src/lib';

/** 32-byte test keys: `k1` is the one vitest.workers.config.ts puts in VAULT_KEYS. */
export const K1 = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';
export const K2 = `k2:${encodeBase64(new Uint8Array(32).fill(0x22))}`;
export const K3 = `k3:${encodeBase64(new Uint8Array(32).fill(0x33))}`;

export const T0 = aheadOfRealNow();

/** The bindings the vault and the audit log need, with a chosen keyring. */
export function withKeys(vaultKeys: string | undefined) {
  return { DB: env.DB, AUDIT_LOG: env.AUDIT_LOG, VAULT_KEYS: vaultKeys };
}

let counter = 0;
/** A fresh workspace row (vault_secrets.workspace_id references workspaces). */
export async function newWorkspace(label = 'ws'): Promise<string> {
  const id = `ws_${label}_${++counter}_${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare('INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)').bind(id, label, T0).run();
  return id;
}

export async function vaultRowCount(): Promise<number> {
  const row = await env.DB.prepare('SELECT count(*) AS n FROM vault_secrets').first<{ n: number }>();
  return row?.n ?? -1;
}

/** Every row of every table in D1, as text (the tables are listed from sqlite_master). */
export async function dumpDatabase(): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
  ).all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all();
    parts.push(`${name}:${JSON.stringify(results)}`);
  }
  return parts.join('\n');
}
