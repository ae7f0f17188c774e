/** The `meta` table of a Conversation object: small named values (lease, identity, paused turn, …) in its SQLite storage. */
export const META_TABLE = 'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)';

export interface ObjectMeta {
  get(key: string): string | null;
  /** null deletes the key. */
  set(key: string, value: string | null): void;
}

export function objectMeta(sql: () => SqlStorage): ObjectMeta {
  return {
    get: (key) => sql().exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value ?? null,
    set: (key, value) => {
      if (value === null) sql().exec('DELETE FROM meta WHERE key = ?', key);
      else sql().exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, value);
    },
  };
}
