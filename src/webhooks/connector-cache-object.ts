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

function cacheOf(env: RecordCacheBindings, platform: Platform, connectorId: string) {
  return env.CONNECTOR_CACHE.getByName(`${platform}:${connectorId}`);
}

export function cachedConnector(env: RecordCacheBindings, platform: Platform, connectorId: string, reload = false) {
  return cacheOf(env, platform, connectorId).record(platform, connectorId, reload);
}

/** After a connector's row or secrets changed in D1: the next webhook reads them again. */
export async function forgetConnector(env: RecordCacheBindings, platform: Platform, connectorId: string): Promise<void> {
  try {
    await cacheOf(env, platform, connectorId).forget();
  } catch (error) {
    // The change itself committed; the TTL bounds how long the old record could still be served.
    console.error(
      JSON.stringify({
        level: 'error',
        event: 'connector.cache.forget-failed',
        platform,
        connectorId,
        error: error instanceof Error ? error.name : 'unknown',
        servedAtMostForMs: RECORD_CACHE_TTL_MS,
      }),
    );
  }
}
