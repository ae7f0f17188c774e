/**
 * Keeps a repeated log line from being written once per event: per key, the first line of
 * every `windowMs` is written and the ones in between are only counted; the next line
 * written carries that count (`suppressed`). For lines whose every occurrence is already in
 * the audit log, so the log stays a signal and a flood of one failure costs one line per
 * window. At most `maxKeys` keys are tracked (the oldest dropped: its next line is written).
 */
export interface LogThrottle {
  /** null: count this one and write nothing; a number: write it, noting how many were not written since the last. */
  admit(key: string, now: number): number | null;
}

export function createLogThrottle(windowMs: number, maxKeys = 256): LogThrottle {
  const keys = new Map<string, { writtenAt: number; suppressed: number }>();
  return {
    admit(key, now) {
      const held = keys.get(key);
      if (held && now - held.writtenAt < windowMs) {
        held.suppressed++;
        return null;
      }
      keys.delete(key);
      if (keys.size >= maxKeys) keys.delete(keys.keys().next().value as string);
      keys.set(key, { writtenAt: now, suppressed: 0 });
      return held?.suppressed ?? 0;
    },
  };
}
