/**
 * Request signing between the gateway (Worker) and a runner.
 *
 * HMAC-SHA256 over a canonical string of method, path, timestamp and body, keyed with the
 * per-deployment secret RUNNER_SECRET. Written against WebCrypto only (`crypto.subtle`), so the
 * Worker imports this same file to sign and the runner (Node) uses it to verify.
 * Verification uses `crypto.subtle.verify`, which compares in constant time.
 */
import { bytesToHex, hexToBytes } from '../lib';

export const RUNNER_SIGNATURE_HEADER = 'x-portcullis-signature';
export const RUNNER_TIMESTAMP_HEADER = 'x-portcullis-timestamp';
/** A signed request older or newer than this is refused (clock skew + transit). */
export const RUNNER_SIGNATURE_MAX_AGE_S = 60;
/** Shorter secrets are refused at start-up: 32 bytes of entropy at least. */
export const RUNNER_SECRET_MIN_LENGTH = 32;

export type SignatureFailure =
  { kind: 'missing' } | { kind: 'malformed' } | { kind: 'stale' } | { kind: 'mismatch' } | { kind: 'replayed' };
export type SignatureCheck = { ok: true; signatureHex: string } | { ok: false; failure: SignatureFailure };

/** The imported HMAC key. Spelled this way so the same type resolves under workers-types and @types/node. */
export type RunnerKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const encoder = new TextEncoder();

/** v1 \n METHOD \n path-with-query \n timestamp \n body — the version tag lets the format change later. */
function canonicalBytes(method: string, path: string, timestamp: string, body: Uint8Array): Uint8Array {
  const head = encoder.encode(`v1\n${method.toUpperCase()}\n${path}\n${timestamp}\n`);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

function toBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? encoder.encode(body) : body;
}

/** Exactly the 64 lower-case hex characters `signRunnerRequest` writes; any other spelling is malformed. */
function macFromHex(hex: string): Uint8Array | null {
  return /^[0-9a-f]{64}$/.test(hex) ? hexToBytes(hex) : null;
}

export async function importRunnerKey(secret: string): Promise<RunnerKey> {
  if (secret.length < RUNNER_SECRET_MIN_LENGTH) throw new Error(`runner secret must be at least ${RUNNER_SECRET_MIN_LENGTH} characters`);
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export interface SignInput {
  method: string;
  /** Path and query exactly as sent (`/invocations`). */
  path: string;
  body: string | Uint8Array;
  /** Unix time in seconds; passed in, never read from a clock here. */
  nowS: number;
}

/** Headers to add to a request to a runner. */
export async function signRunnerRequest(key: RunnerKey, input: SignInput): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(input.nowS));
  const mac = await crypto.subtle.sign('HMAC', key, canonicalBytes(input.method, input.path, timestamp, toBytes(input.body)));
  return { [RUNNER_TIMESTAMP_HEADER]: timestamp, [RUNNER_SIGNATURE_HEADER]: bytesToHex(new Uint8Array(mac)) };
}

export interface VerifyInput extends SignInput {
  timestamp: string | null | undefined;
  signature: string | null | undefined;
}

/**
 * Precedence (first match wins):
 * 1. timestamp or signature header absent → missing
 * 2. timestamp not a decimal integer, signature not 64 lower-case hex → malformed
 * 3. |now − timestamp| > RUNNER_SIGNATURE_MAX_AGE_S → stale
 * 4. HMAC does not verify (constant-time) → mismatch
 * 5. otherwise → ok (the caller rejects a signature it has already seen: replay)
 */
export async function verifyRunnerRequest(key: RunnerKey, input: VerifyInput): Promise<SignatureCheck> {
  if (!input.timestamp || !input.signature) return { ok: false, failure: { kind: 'missing' } };
  const mac = macFromHex(input.signature);
  if (!/^\d{1,12}$/.test(input.timestamp) || !mac) return { ok: false, failure: { kind: 'malformed' } };
  if (Math.abs(input.nowS - Number(input.timestamp)) > RUNNER_SIGNATURE_MAX_AGE_S) return { ok: false, failure: { kind: 'stale' } };
  const valid = await crypto.subtle.verify(
    'HMAC',
    key,
    mac,
    canonicalBytes(input.method, input.path, input.timestamp, toBytes(input.body)),
  );
  if (!valid) return { ok: false, failure: { kind: 'mismatch' } };
  return { ok: true, signatureHex: input.signature };
}

/**
 * Remembers accepted signatures for the freshness window so a captured request cannot be
 * replayed inside it. Memory is bounded by the request rate times the window.
 */
export function createReplayGuard(windowS = RUNNER_SIGNATURE_MAX_AGE_S) {
  const seen = new Map<string, number>();
  return {
    /** Returns false if the signature was already used. */
    accept(signatureHex: string, nowS: number): boolean {
      for (const [sig, at] of seen) if (nowS - at > windowS * 2) seen.delete(sig);
      if (seen.has(signatureHex)) return false;
      seen.set(signatureHex, nowS);
      return true;
    },
  };
}

/** HKDF salt: names what the derived key is for, so it never collides with another use of RUNNER_SECRET. */
const INSTANCE_KEY_SALT = 'portcullis runner instance key v1';

/**
 * Each ToolSandbox instance (one per workspace, agent and tool policy) gets its own runner key,
 * HKDF-SHA256(RUNNER_SECRET, salt, info = instance id) as 64 hex characters: a secret read out of
 * one tenant's container signs requests for that container only, not for every tenant's.
 * Deterministic, so the Durable Object re-derives it after eviction without storing it.
 */
export async function deriveInstanceSecret(deploymentSecret: string, instanceId: string): Promise<string> {
  const base = await crypto.subtle.importKey('raw', encoder.encode(deploymentSecret), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(INSTANCE_KEY_SALT), info: encoder.encode(instanceId) },
    base,
    256,
  );
  return bytesToHex(new Uint8Array(bits));
}
