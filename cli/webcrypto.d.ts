// The CLI reuses src/vault/keyring.ts, written against workers-types, where `CryptoKey` is a
// global type; @types/node has only the global value, so name its type here for the Node build.
import type { webcrypto } from 'node:crypto';

declare global {
  type CryptoKey = webcrypto.CryptoKey;
}
