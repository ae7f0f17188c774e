/**
 * `assert:` capabilities: a publisher's claim that no sandbox primitive expresses
 * (capgate's "declared, not enforced" half of the IR). They are carried into every
 * artifact as metadata; the few that Portcullis itself enforces say so and how.
 *
 *   assert:<id>[:"<description>" | :<description>]
 *
 * capgate writes the description quoted (it may then contain colons) or bare (the rest of
 * the string, spaces and colons included). Both normalise to the quoted canonical text.
 */
import type { CapabilityParse } from './capability';

/** Dotted lower-case words: `fetch.block_rfc1918`, `postgres.read_only_txn`, `no-telemetry`. */
const ASSERT_ID = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;
export const MAX_ASSERT_ID_LENGTH = 128;
export const MAX_ASSERT_DESCRIPTION_LENGTH = 300;

export function parseAssert(rest: string): CapabilityParse {
  const colon = rest.indexOf(':');
  const id = colon < 0 ? rest : rest.slice(0, colon);
  if (id.length > MAX_ASSERT_ID_LENGTH || !ASSERT_ID.test(id)) {
    if (/[A-Z]/.test(id) && ASSERT_ID.test(id.toLowerCase()))
      return { ok: false, code: 'CAP_ASSERT_ID', detail: 'assertion ids are lower case, so that an enforced id has exactly one spelling.' };
    return { ok: false, code: 'CAP_ASSERT_ID' };
  }
  if (colon < 0) return { ok: true, capability: { kind: 'assert', id } };
  const raw = rest.slice(colon + 1);
  const quoted = /^"([^"\\]*)"$/.exec(raw);
  // Quotes only around the whole description; a bare one may not contain any.
  const description = quoted ? (quoted[1] ?? '') : /["\\]/.test(raw) ? null : raw.trim();
  if (description === null || description.trim() === '' || description.length > MAX_ASSERT_DESCRIPTION_LENGTH)
    return { ok: false, code: 'CAP_ASSERT_DESCRIPTION' };
  return { ok: true, capability: { kind: 'assert', id, description } };
}

export interface AssertionEnforcement {
  /** What in Portcullis enforces it, for the artifact and docs/policy.md. */
  enforcedBy: string;
}

/**
 * Assertion ids Portcullis enforces itself, on every target (docs/policy.md "Assertions").
 * Matched exactly; any other id is the publisher's claim for the host to verify.
 */
export const ENFORCED_ASSERTIONS: Readonly<Record<string, AssertionEnforcement>> = {
  'fetch.block_rfc1918': {
    enforcedBy:
      'the egress decision: blockPrivate is always true and decideEgress rules 3–4 deny every private or reserved destination, literal or resolved (a superset of RFC 1918); the squid and nftables artifacts deny the same ranges first.',
  },
};

export function assertionEnforcement(id: string): AssertionEnforcement | undefined {
  return Object.hasOwn(ENFORCED_ASSERTIONS, id) ? ENFORCED_ASSERTIONS[id] : undefined;
}
