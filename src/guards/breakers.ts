/**
 * Where the injection classifier's circuit breakers live: one per (workspace, classifier
 * settings), in the isolate's memory, so a classifier that keeps failing is left alone across
 * turns and conversations instead of being asked again by every new turn.
 *
 * Bounds, and why memory is enough here (DESIGN: nothing security-relevant lives only in an
 * isolate): the breaker only decides whether to *call* the classifier. An open breaker is a
 * failed classifier (injection.ts rule 6): `block` fails closed, `warn` records. Forgetting
 * the state (a new isolate, an eviction) just means the classifier is asked again.
 * 1. keyed by workspace as well as settings: one workspace's bad key or endpoint never opens
 *    the breaker of another workspace that uses the same provider;
 * 2. a closed breaker is not kept (a success deletes the entry);
 * 3. at most CLASSIFIER_BREAKERS_MAX entries; past that the least recently written goes;
 * 4. each isolate has its own registry: with several isolates a failing classifier is called
 *    up to BREAKER_THRESHOLD times per isolate before each one opens.
 */
import type { BreakerCell, BreakerState } from './injection';
import { CLOSED_BREAKER } from './injection';
import type { ClassifierSettings } from './settings';

export const CLASSIFIER_BREAKERS_MAX = 512;

export interface BreakerRegistry {
  cell(key: string): BreakerCell;
  readonly size: number;
}

export function breakerRegistry(maxEntries: number): BreakerRegistry {
  const states = new Map<string, BreakerState>();
  return {
    cell(key) {
      return {
        read: () => states.get(key) ?? { ...CLOSED_BREAKER },
        write(next) {
          // 3: Map keeps insertion order, so delete-then-set makes this the newest entry.
          states.delete(key);
          // 2
          if (next.failures === 0 && next.openUntil === 0 && next.probeAt === 0) return;
          states.set(key, next);
          if (states.size > maxEntries) states.delete(states.keys().next().value as string);
        },
      };
    },
    get size() {
      return states.size;
    },
  };
}

/** 1: the workspace and every setting that changes where the classifier's calls go. */
export function classifierBreakerKey(workspaceId: string, settings: ClassifierSettings): string {
  return JSON.stringify([workspaceId, settings.provider, settings.model, settings.baseUrl ?? null, settings.credential ?? null]);
}

/** The isolate's registry (module state: it outlives a turn, not the isolate). */
export const classifierBreakers = breakerRegistry(CLASSIFIER_BREAKERS_MAX);
