/**
 * Which limiter object holds a key's windows. Keys are spread over a fixed set of
 * long-lived objects (docs/ratelimit.md "Sharding"): a key always maps to the same object,
 * so each window has exactly one owner and stays exact, while the number of objects stays
 * bounded whatever the number of clients. The shard depends on the key only, not the
 * policy, so the buckets of one request that share a key (an IP on /api/v1/* with no
 * credential) are decided in one call.
 */
export const LIMITER_SHARDS = 32;

/** FNV-1a (32-bit) over the key's UTF-16 code units: stable across isolates and deploys, no await. */
export function shardOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % LIMITER_SHARDS;
}

/** The Durable Object name (idFromName) of the shard that owns `key`. */
export function limiterShardName(key: string): string {
  return `limiter-shard:${shardOf(key)}`;
}
