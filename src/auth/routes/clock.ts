/** Milliseconds since the epoch. Injected so tests can move time (expiry, lockout windows). */
export type Clock = () => number;
