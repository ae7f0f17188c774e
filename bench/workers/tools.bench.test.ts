import { it } from 'vitest';
import { decideEgress } from '../../src/policy';
import { decideOutbound, substituteArgv, validateArguments, type OutboundPolicy } from '../../src/tools';
import { measure, report } from './harness';

const PLACEHOLDER = 'PORTCULLIS_PLACEHOLDER_00112233445566778899aabbccddeeff';
const POLICY: OutboundPolicy = { egress: { allow: [{ host: 'api.github.com', port: 443 }], blockPrivate: true }, credentials: [] };
const WITH_CREDENTIAL: OutboundPolicy = { ...POLICY, credentials: [{ name: 'GITHUB_TOKEN', placeholder: PLACEHOLDER, hosts: ['api.github.com'] }] };
const deps = { resolve: async () => ['140.82.112.6'], reveal: async () => 'ghp_value0123456789abcdef' };

it('tools: container egress decision per request against the bare decideEgress', async () => {
  const baseline = await measure('decideEgress (host, port, addresses)', () => decideEgress(POLICY.egress, { host: 'api.github.com', port: 443, resolvedAddresses: ['140.82.112.6'] }));
  const plain = await measure('decideOutbound, no credentials (URL parse + decideEgress)', () => decideOutbound(new Request('https://api.github.com/repos/o/r'), POLICY, deps));
  const swap = await measure('decideOutbound, placeholder swapped in a header', () =>
    decideOutbound(new Request('https://api.github.com/user', { headers: { authorization: `Bearer ${PLACEHOLDER}` } }), WITH_CREDENTIAL, deps),
  );
  const body = await measure('decideOutbound, 16 KiB body inspected and swapped', () =>
    decideOutbound(new Request('https://api.github.com/user', { method: 'POST', body: `${'x'.repeat(16 * 1024)}${PLACEHOLDER}` }), WITH_CREDENTIAL, deps),
  );
  report('tools-egress-decision', baseline, [plain, swap, body]);
});

it('tools: argument validation and argv substitution against JSON.parse of the same arguments', async () => {
  const schema = { type: 'object', properties: { path: { type: 'string', pattern: '^/workspace/', maxLength: 200 }, n: { type: 'integer', minimum: 1 } }, required: ['path'] };
  const args = { path: '/workspace/report.txt', n: 3 };
  const text = JSON.stringify(args);
  const baseline = await measure('JSON.parse of the arguments', () => JSON.parse(text));
  const validate = await measure('validateArguments (subset validator)', () => validateArguments(schema, args));
  const substitute = await measure('substituteArgv', () => substituteArgv(['cat', '--', '{path}'], args));
  report('tools-arguments', baseline, [validate, substitute]);
});
