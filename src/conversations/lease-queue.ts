import type { ObjectMeta } from './object-meta';

/** A lease not renewed for this long is dead (its Worker died mid-turn): the next turn may start. */
export const LEASE_GRACE_MS = 30_000;

/**
 * One turn at a time in a conversation: the lease (meta `lease`, so it survives eviction)
 * and the FIFO of callers waiting for it, in memory (a waiter holds an open call, so the
 * object is not evicted under it). A lease whose Worker died expires on its own.
 */
export class LeaseQueue {
  #waiters: Array<() => void> = [];

  constructor(private readonly meta: ObjectMeta) {}

  /** The live lease, if any; an expired one is dropped. */
  current(): { token: string; expiresAtMs: number } | null {
    const raw = this.meta.get('lease');
    if (raw === null) return null;
    const lease = JSON.parse(raw) as { token: string; expiresAtMs: number };
    if (lease.expiresAtMs <= Date.now()) {
      this.meta.set('lease', null);
      return null;
    }
    return lease;
  }

  grant(leaseMs: number): string {
    const token = crypto.randomUUID();
    this.meta.set('lease', JSON.stringify({ token, expiresAtMs: Date.now() + leaseMs + LEASE_GRACE_MS }));
    return token;
  }

  require(token: string): void {
    const lease = this.current();
    if (!lease || lease.token !== token) throw new Error('conversation: lease lost');
  }

  /** Frees the lease if `token` holds it, and lets the next waiter look. */
  release(token: string): void {
    const lease = this.current();
    if (lease && lease.token === token) this.meta.set('lease', null);
    this.wake();
  }

  /** The lease is freed without a token (a pause hands it back): the next waiter looks. */
  drop(): void {
    this.meta.set('lease', null);
  }

  wake(): void {
    const next = this.#waiters.shift();
    if (next) next();
  }

  /** Waits (FIFO) until no live lease is held or `waitMs` passes. True when free. */
  async waitForFree(waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    while (this.current() !== null || this.#waiters.length > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        // Giving up must not strand the waiter behind: it re-checks for itself.
        this.wake();
        return false;
      }
      const lease = this.current();
      // Wake on release, or when a dead lease would have expired, whichever is first.
      const sleep = Math.max(1, Math.min(remaining, lease ? lease.expiresAtMs - Date.now() : remaining));
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      this.#waiters.push(wake);
      const timer = setTimeout(wake, sleep);
      await woken;
      clearTimeout(timer);
      this.#waiters = this.#waiters.filter((w) => w !== wake);
      if (this.current() === null) return true;
    }
    return true;
  }
}
