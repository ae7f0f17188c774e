import type { SlackRejectReason } from './reject-reasons';
import { hexToBytes, utf8 } from '../lib';
import { constantTimeEqual } from '../lib';
import { checkTimestamp } from './timestamps';

/** `v0=` then 64 hex chars: the only signature version Slack documents. */
const V0_SIGNATURE = /^v0=([0-9a-fA-F]{64})$/;
const ANY_VERSION = /^v[0-9]+=/;

export type SlackVerdict = { ok: true } | { ok: false; reason: SlackRejectReason };

export interface SlackSignatureInput {
  /** The app's signing secret, used as UTF-8 text (Slack: do not hex-decode it). */
  signingSecret: string;
  /** X-Slack-Signature. */
  signatureHeader: string | undefined;
  /** X-Slack-Request-Timestamp. */
  timestampHeader: string | undefined;
  rawBody: Uint8Array;
  /** Epoch milliseconds. */
  now: number;
}

/** HMAC-SHA256 of `v0:<timestamp>:<raw body>` keyed with the signing secret. */
export async function slackV0Mac(signingSecret: string, timestamp: string, rawBody: Uint8Array): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', utf8(signingSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const prefix = utf8(`v0:${timestamp}:`);
  const base = new Uint8Array(prefix.length + rawBody.length);
  base.set(prefix);
  base.set(rawBody, prefix.length);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, base));
}

/**
 * Verifies Slack request signing ("Verifying requests from Slack"). Precedence (same numbers
 * in docs/webhooks.md):
 *  1. a signing secret is configured              else not-configured
 *  2. both headers present                        else missing-headers
 *  3. timestamp decimal Unix seconds              else malformed-timestamp
 *  4. timestamp within 5 minutes of now           else stale-timestamp
 *  5. signature version is v0                     else unknown-signature-version
 *  6. signature is `v0=` + 64 hex chars           else malformed-signature
 *  7. MAC equal, compared in constant time        else bad-signature
 *  8. otherwise reject.
 */
export async function verifySlackSignature(input: SlackSignatureInput): Promise<SlackVerdict> {
  const { signatureHeader, timestampHeader } = input;
  // 1
  if (input.signingSecret.trim() === '') return { ok: false, reason: 'not-configured' };
  // 2
  if (signatureHeader === undefined || timestampHeader === undefined) return { ok: false, reason: 'missing-headers' };
  // 3, 4
  const fresh = checkTimestamp(timestampHeader, input.now);
  if (!fresh.ok) return { ok: false, reason: fresh.reason };
  // 5
  if (ANY_VERSION.test(signatureHeader) && !signatureHeader.startsWith('v0=')) return { ok: false, reason: 'unknown-signature-version' };
  // 6
  const presented = V0_SIGNATURE.exec(signatureHeader)?.[1];
  const presentedMac = presented === undefined ? null : hexToBytes(presented);
  if (!presentedMac) return { ok: false, reason: 'malformed-signature' };
  // 7
  const expectedMac = await slackV0Mac(input.signingSecret, timestampHeader, input.rawBody);
  if (constantTimeEqual(expectedMac, presentedMac)) return { ok: true };
  // 8
  return { ok: false, reason: 'bad-signature' };
}
