import { it } from 'vitest';
import { decideEgress } from '../../src/policy';
import { ARGUMENT_STRING_MAX_CHARS, decideOutbound, substituteArgv, validateArguments, type OutboundPolicy } from '../../src/tools';
import { measure, report } from './harness';

const PLACEHOLDER = 'PORTCULLIS_PLACEHOLDER_00112233445566778899aabbccddeeff';
const POLICY: OutboundPolicy = { egress: { allow: [{ host: 'api.github.com', port: 443 }], blockPrivate: true }, credentials: [] };
const WITH_CREDENTIAL: OutboundPolicy = {
  ...POLICY,
  credentials: [{ name: 'GITHUB_TOKEN', placeholder: PLACEHOLDER, hosts: ['api.github.com'] }],
};
const deps = { resolve: async () => ['140.82.112.6'], reveal: async () => 'ghp_value0123456789abcdef' };

it('tools: container egress decision per request against the bare decideEgress', async () => {
  const baseline = await measure('decideEgress (host, port, addresses)', () =>
    decideEgress(POLICY.egress, { host: 'api.github.com', port: 443, resolvedAddresses: ['140.82.112.6'] }),
  );
  const plain = await measure('decideOutbound, no credentials (URL parse + decideEgress)', () =>
    decideOutbound(new Request('https://api.github.com/repos/o/r'), POLICY, deps),
  );
  const swap = await measure('decideOutbound, placeholder swapped in a header', () =>
    decideOutbound(
      new Request('https://api.github.com/user', { headers: { authorization: `Bearer ${PLACEHOLDER}` } }),
      WITH_CREDENTIAL,
      deps,
    ),
  );
  const body = await measure('decideOutbound, 16 KiB body inspected and swapped', () =>
    decideOutbound(
      new Request('https://api.github.com/user', { method: 'POST', body: `${'x'.repeat(16 * 1024)}${PLACEHOLDER}` }),
      WITH_CREDENTIAL,
      deps,
    ),
  );
  report('tools-egress-decision', baseline, [plain, swap, body]);
});

it('tools: argument validation and argv substitution against JSON.parse of the same arguments', async () => {
  const schema = {
    type: 'object',
    properties: { path: { type: 'string', pattern: '^/workspace/', maxLength: 200 }, n: { type: 'integer', minimum: 1 } },
    required: ['path'],
  };
  const args = { path: '/workspace/report.txt', n: 3 };
  const text = JSON.stringify(args);
  const baseline = await measure('JSON.parse of the arguments', () => JSON.parse(text));
  const validate = await measure('validateArguments (@cfworker/json-schema, schema re-check and caps included)', () =>
    validateArguments(schema, args),
  );
  const substitute = await measure('substituteArgv', () => substituteArgv(['cat', '--', '{path}'], args));
  report('tools-arguments', baseline, [validate, substitute]);
});

it('tools: the worst accepted pattern on the largest accepted arguments against JSON.parse of them', async () => {
  // Unanchored bounded run (rule 8 allows up to 16 repeats) that never matches: the engine's
  // worst case among accepted patterns, on 7 strings at ARGUMENT_STRING_MAX_CHARS (under ARGUMENTS_MAX_BYTES).
  const names = Array.from({ length: 7 }, (_, i) => `s${i}`);
  const schema = {
    type: 'object',
    properties: Object.fromEntries(names.map((name) => [name, { type: 'string', pattern: '[a-z]{1,16}x' }])),
  };
  const args = Object.fromEntries(names.map((name) => [name, 'a'.repeat(ARGUMENT_STRING_MAX_CHARS)]));
  const text = JSON.stringify(args);
  const check = validateArguments(schema, args);
  if (check.ok || check.kind !== 'invalid') throw new Error('the worst case must reach the pattern and fail it');
  const baseline = await measure('JSON.parse of 56 KiB of arguments', () => JSON.parse(text));
  const worst = await measure('validateArguments, 7 × 8192-char strings, pattern [a-z]{1,16}x (no match)', () =>
    validateArguments(schema, args),
  );
  report('tools-arguments-worst-pattern', baseline, [worst]);
});
