import { drizzle } from 'drizzle-orm/d1';
import { bytesToHex } from '../lib';
import * as schema from './schema';

export * from './schema';

export type Database = ReturnType<typeof createDb>;

/** A drizzle handle over the D1 binding; cheap, so made per request. */
export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/** Random identifier with 128 bits of entropy, prefixed by what it names (`ws_`, `usr_`…). */
export function newId(prefix: string): string {
  return `${prefix}_${bytesToHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}
