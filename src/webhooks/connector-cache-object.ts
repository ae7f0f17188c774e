import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { Platform } from './inbound';
import { readConnector, type FetchedConnector } from './connector-read';

/**
 * How long a looked-up record is served from memory. Not what keeps it right (every delete
 * and create tells the object, `forget`): only the bound if such a call were ever lost.
 */
export const RECORD_CACHE_TTL_MS = 60_000;

/**
 * One object per connector (named `<platform>:<connectorId>`): the webhook hot path's view of
 * its connector. It reads the connector row and the envelope of its verification secret
 * from D1 once (one join) and serves them from memory, so a busy connector costs one warm
 * Durable Object call per request instead of one D1 query. The secret stays sealed here: the
 * Worker opens the envelope with the vault keyring. Nothing is stored (an unknown id probed
 * by a flood leaves no object behind), and every change to the connector goes through
 * `forget`, so it is never served stale:
 * - deleteConnector and deleteAgent call `forget` after the D1 delete committed;
 * - createConnector calls it too (an id probed before it existed was cached as unknown);
 * - a load that was in flight when `forget` ran is returned to the requests that were
 *   already waiting for it, but not kept (the generation moved on).
 */
export class ConnectorRecordCache extends DurableObject<Env> {
  #cached: { value: FetchedConnector | null; expiresAt: number } | undefined;
  #loading: Promise<FetchedConnector | null> | undefined;
  #generation = 0;

  /** The record, from memory when fresh; `reload` drops what is held first (the keyring no longer opens it). */
  async record(platform: Platform, connectorId: string, reload = false): Promise<FetchedConnector | null> {
    if (reload) this.forget();
    const now = Date.now();
    if (this.#cached && now < this.#cached.expiresAt) return this.#cached.value;
    this.#loading ??= this.#load(platform, connectorId);
    return this.#loading;
  }

  forget(): void {
    this.#generation++;
    this.#cached = undefined;
    this.#loading = undefined;
  }

  async #load(platform: Platform, connectorId: string): Promise<FetchedConnector | null> {
    const generation = this.#generation;
    try {
      const value = await readConnector(this.env, platform, connectorId);
      if (generation === this.#generation) this.#cached = { value, expiresAt: Date.now() + RECORD_CACHE_TTL_MS };
      return value;
    } finally {
      if (generation === this.#generation) this.#loading = undefined;
    }
  }
}

/** The bindings the cache needs from the Worker. */
export type RecordCacheBindings = Pick<Env, 'CONNECTOR_CACHE'>;

/**
 * How long an isolate uses its own copy of a record before asking the connector's object
 * again. A change made through another isolate (which tells only the object and itself)
 * reaches this one after at most this long; until then the copy may verify a request, but
 * nothing verified against it is handed off before the object confirms it (pipeline.ts).
 */
export const ISOLATE_RECORD_TTL_MS = 30_000;
/** Records held per isolate at most (least recently used dropped first). */
export const ISOLATE_RECORDS_MAX = 512;

/**
 * This isolate's copies of connector records (found ones only: an unknown id is asked of its
 * object every time, so a probe never makes a later real connector look unknown here).
 * Exported for tests, which stand in for another isolate's copy with it.
 */
export const isolateRecords = {
  entries: new Map<string, { value: FetchedConnector; expiresAt: number }>(),
  /** Bumped by every forget, so a read that was in flight across one is not kept (it may predate the change). */
  generation: 0,
  get(name: string, now: number): FetchedConnector | undefined {
    const held = this.entries.get(name);
    if (!held) return undefined;
    this.entries.delete(name);
    if (now >= held.expiresAt) return undefined;
    this.entries.set(name, held);
    return held.value;
  },
  remember(name: string, value: FetchedConnector, now: number): void {
    this.entries.delete(name);
    this.entries.set(name, { value, expiresAt: now + ISOLATE_RECORD_TTL_MS });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= ISOLATE_RECORDS_MAX) break;
      this.entries.delete(oldest);
    }
  },
  forget(name: string): void {
    this.generation++;
    this.entries.delete(name);
  },
};

function nameOf(platform: Platform, connectorId: string): string {
  return `${platform}:${connectorId}`;
}

/**
 * Where a record may come from: `isolate` this isolate's copy when it holds one (else the
 * object); `object` the connector's object, which every change tells; `reload` the object
 * after it read D1 again (the keyring no longer opens what it held).
 */
export type RecordSource = 'isolate' | 'object' | 'reload';

/** The record and whether it is this isolate's copy (possibly up to ISOLATE_RECORD_TTL_MS behind a change). */
export async function cachedConnector(
  env: RecordCacheBindings,
  platform: Platform,
  connectorId: string,
  source: RecordSource = 'isolate',
): Promise<{ value: FetchedConnector | null; isolateCopy: boolean }> {
  const name = nameOf(platform, connectorId);
  const now = Date.now();
  const held = source === 'isolate' ? isolateRecords.get(name, now) : undefined;
  if (held) return { value: held, isolateCopy: true };
  const generation = isolateRecords.generation;
  const value = await env.CONNECTOR_CACHE.getByName(name).record(platform, connectorId, source === 'reload');
  if (!value) isolateRecords.entries.delete(name);
  else if (generation === isolateRecords.generation) isolateRecords.remember(name, value, now);
  return { value, isolateCopy: false };
}

/** After a connector's row or secrets changed in D1: the next webhook reads them again. */
export async function forgetConnector(env: RecordCacheBindings, platform: Platform, connectorId: string): Promise<void> {
  const name = nameOf(platform, connectorId);
  isolateRecords.forget(name);
  try {
    await env.CONNECTOR_CACHE.getByName(name).forget();
    // Again once the object has forgotten: a read in this isolate meanwhile may have brought back the old record.
    isolateRecords.forget(name);
  } catch (error) {
    // The change itself committed; the TTL bounds how long the old record could still be served.
    console.error(
      JSON.stringify({
        level: 'error',
        event: 'connector.cache.forget-failed',
        platform,
        connectorId,
        error: error instanceof Error ? error.name : 'unknown',
        // The object's copy, then an isolate's copy taken just before it expired.
        servedAtMostForMs: RECORD_CACHE_TTL_MS + ISOLATE_RECORD_TTL_MS,
      }),
    );
  }
}
