import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DEDUPE_WINDOW_MS, markSeen, type WebhookDedupe } from '../../src/webhooks';
import { aheadOfRealNow } from './clock';

const T0 = aheadOfRealNow();
const WINDOW = 60_000;

function dedupeFor(name: string): DurableObjectStub<WebhookDedupe> {
  return env.WEBHOOK_DEDUPE.get(env.WEBHOOK_DEDUPE.idFromName(name));
}

describe('WebhookDedupe', () => {
  it('answers first once, then duplicate for the same key inside the window', async () => {
    const stub = dedupeFor('window');
    expect(await stub.seen('event:Ev1', T0, WINDOW)).toBe('first');
    expect(await stub.seen('event:Ev1', T0 + 1, WINDOW)).toBe('duplicate');
    expect(await stub.seen('event:Ev1', T0 + WINDOW - 1, WINDOW)).toBe('duplicate');
    expect(await stub.seen('event:Ev2', T0 + 1, WINDOW)).toBe('first');
  });

  it('forgets a key once its window has passed, even before the alarm has run', async () => {
    const stub = dedupeFor('expiry');
    expect(await stub.seen('update:7', T0, WINDOW)).toBe('first');
    expect(await stub.seen('update:7', T0 + WINDOW, WINDOW)).toBe('first');
    expect(await stub.seen('update:7', T0 + WINDOW + 1, WINDOW)).toBe('duplicate');
  });

  it('is exact under concurrency: 50 simultaneous deliveries of one event give one first', async () => {
    const stub = dedupeFor('race');
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => stub.seen('event:EvRace', T0, WINDOW)));
    expect(verdicts.filter((v) => v === 'first')).toHaveLength(1);
    expect(verdicts.filter((v) => v === 'duplicate')).toHaveLength(49);
  });

  it('stays bounded: past the cap the oldest keys are evicted first', async () => {
    const stub = dedupeFor('bounded');
    await runInDurableObject(stub, async (instance: WebhookDedupe, state) => {
      const stored = () => state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM seen_events').one().n;
      for (let i = 1; i <= 5; i++) expect(await instance.record(`k${i}`, T0 + i, WINDOW, 3)).toBe('first');
      expect([instance.size(), stored()]).toEqual([3, 3]);
      // k1 and k2 were the oldest and are gone; k3..k5 are still remembered.
      expect(await instance.record('k5', T0 + 10, WINDOW, 3)).toBe('duplicate');
      expect(await instance.record('k3', T0 + 10, WINDOW, 3)).toBe('duplicate');
      expect(await instance.record('k1', T0 + 10, WINDOW, 3)).toBe('first');
      expect([instance.size(), stored()]).toEqual([3, 3]);
    });
  });

  it('expire(now) drops only keys whose window has passed and re-arms the alarm for the next expiry', async () => {
    const stub = dedupeFor('expire');
    await runInDurableObject(stub, async (instance: WebhookDedupe, state) => {
      await instance.record('a', T0, WINDOW, 10);
      await instance.record('b', T0 + 1000, WINDOW, 10);
      await instance.record('c', T0, 10 * WINDOW, 10);
      await instance.expire(T0 + WINDOW + 1);
      expect(instance.size()).toBe(2);
      expect(await state.storage.getAlarm()).toBe(T0 + 1000 + WINDOW);
      await instance.expire(T0 + 2 * WINDOW);
      expect(instance.size()).toBe(1);
      expect(await state.storage.getAlarm()).toBe(T0 + 10 * WINDOW);
      expect(await instance.record('c', T0 + 2 * WINDOW, WINDOW, 10)).toBe('duplicate');
      expect(await instance.record('a', T0 + 2 * WINDOW, WINDOW, 10)).toBe('first');
    });
  });

  it('runs expiry from the platform alarm: expired keys go, live ones stay', async () => {
    const stub = dedupeFor('alarm');
    const now = Date.now();
    // Two keys recorded long ago (their windows are over), one still live. The runtime may
    // already fire the past-due alarm on its own; running it again must be harmless.
    expect(await stub.seen('old-1', now - 3 * WINDOW, WINDOW)).toBe('first');
    expect(await stub.seen('old-2', now - 2 * WINDOW, WINDOW)).toBe('first');
    expect(await stub.seen('live', now, 10 * WINDOW)).toBe('first');
    await runDurableObjectAlarm(stub);
    await runDurableObjectAlarm(stub);
    expect(await stub.size()).toBe(1);
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBe(now + 10 * WINDOW);
    expect(await stub.seen('live', now + 1, 10 * WINDOW)).toBe('duplicate');
  });

  it('refuses nonsense input instead of storing it', async () => {
    const stub = dedupeFor('input');
    expect(await stub.seen('', T0, WINDOW)).toBe('invalid');
    expect(await stub.seen('x'.repeat(257), T0, WINDOW)).toBe('invalid');
    expect(await stub.seen('k', T0, 0)).toBe('invalid');
    expect(await stub.seen('k', Number.NaN, WINDOW)).toBe('invalid');
    expect(await stub.seen('k', T0 + 0.5, WINDOW)).toBe('invalid');
    expect(await stub.size()).toBe(0);
  });

  it('keeps one window per connector: the same event key on two connectors is first on both', async () => {
    expect(await markSeen(env, 'slack', 'conn_a', 'event:EvShared', T0)).toBe('first');
    expect(await markSeen(env, 'slack', 'conn_b', 'event:EvShared', T0)).toBe('first');
    expect(await markSeen(env, 'slack', 'conn_a', 'event:EvShared', T0 + 1)).toBe('duplicate');
  });

  it('uses a window per platform that outlasts its retries (Telegram 24 h, Slack 1 h, Discord 15 min)', async () => {
    expect(await markSeen(env, 'telegram', 'conn_t', 'update:1', T0)).toBe('first');
    expect(await markSeen(env, 'telegram', 'conn_t', 'update:1', T0 + DEDUPE_WINDOW_MS.telegram - 1)).toBe('duplicate');
    expect(DEDUPE_WINDOW_MS.slack).toBeGreaterThan(6 * 60 * 1000); // last Slack retry comes ~6 min after the first
    expect(DEDUPE_WINDOW_MS.discord).toBeGreaterThan(2 * 5 * 60 * 1000); // longer than the ±5 min signature window
  });
});
