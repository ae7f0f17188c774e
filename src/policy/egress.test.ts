import { describe, expect, it } from 'vitest';
import { decideEgress, type EgressPolicy } from './egress';

const policy: EgressPolicy = {
  allow: [
    { host: 'api.github.com', port: 443 },
    { host: 'api.github.com', port: 8443 },
    { host: '*', port: 80 },
    // The tool names the operator's destinations itself (rule 2 needs both sides).
    { host: 'internal.corp', port: 8443 },
    { host: '10.0.0.5', port: 443 },
  ],
  operatorAllow: [
    { host: 'internal.corp', port: 8443 },
    { host: '10.0.0.5', port: 443 },
    { host: '*', port: 443 },
  ],
  blockPrivate: true,
};
const PUBLIC = ['140.82.112.6'];

describe('decideEgress precedence (docs/policy.md "Egress decision")', () => {
  it('1. malformed host → deny', () => {
    expect(decideEgress(policy, { host: 'a@api.github.com', port: 443, resolvedAddresses: PUBLIC })).toEqual({
      allow: false,
      rule: 1,
      reason: 'malformed-host',
    });
    expect(decideEgress(policy, { host: '', port: 443, resolvedAddresses: PUBLIC })).toEqual({
      allow: false,
      rule: 1,
      reason: 'malformed-host',
    });
  });
  it('1. port outside 1–65535 → deny', () => {
    for (const port of [0, 65536, -1, 1.5, Number.NaN]) {
      expect(decideEgress(policy, { host: 'api.github.com', port, resolvedAddresses: PUBLIC })).toEqual({
        allow: false,
        rule: 1,
        reason: 'port-not-allowed',
      });
    }
  });
  it('2. operator allow, exact host and port → allow even when private', () => {
    expect(decideEgress(policy, { host: 'INTERNAL.corp.', port: 8443, resolvedAddresses: ['10.1.2.3'] })).toEqual({
      allow: true,
      rule: 2,
      reason: 'operator-allow',
    });
    expect(decideEgress(policy, { host: '0x0a000005', port: 443, resolvedAddresses: [] })).toMatchObject({ allow: true, rule: 2 });
  });
  it('2. operator allow opens nothing for a tool that does not declare that exact host and port', () => {
    const publicOnly: EgressPolicy = { ...policy, allow: [{ host: 'api.github.com', port: 443 }] };
    expect(decideEgress(publicOnly, { host: 'internal.corp', port: 8443, resolvedAddresses: ['10.1.2.3'] })).toEqual({
      allow: false,
      rule: 4,
      reason: 'resolves-private',
    });
    expect(decideEgress(publicOnly, { host: '10.0.0.5', port: 443, resolvedAddresses: [] })).toEqual({
      allow: false,
      rule: 3,
      reason: 'ip-literal-private',
    });
    // '*' on the port is "any public host", not a declaration of the operator's destination.
    const wildcard: EgressPolicy = {
      ...policy,
      allow: [
        { host: '*', port: 8443 },
        { host: '*', port: 443 },
      ],
    };
    expect(decideEgress(wildcard, { host: 'internal.corp', port: 8443, resolvedAddresses: ['10.1.2.3'] })).toEqual({
      allow: false,
      rule: 4,
      reason: 'resolves-private',
    });
    expect(decideEgress(wildcard, { host: '10.0.0.5', port: 443, resolvedAddresses: [] })).toEqual({
      allow: false,
      rule: 3,
      reason: 'ip-literal-private',
    });
    // Declared on another port than the allowance: not the same destination.
    const otherPort: EgressPolicy = { ...policy, allow: [{ host: 'internal.corp', port: 443 }] };
    expect(decideEgress(otherPort, { host: 'internal.corp', port: 443, resolvedAddresses: ['10.1.2.3'] })).toEqual({
      allow: false,
      rule: 4,
      reason: 'resolves-private',
    });
  });
  it('2. operator allow does not extend to another port or to a wildcard', () => {
    expect(decideEgress(policy, { host: 'internal.corp', port: 443, resolvedAddresses: ['10.1.2.3'] })).toEqual({
      allow: false,
      rule: 4,
      reason: 'resolves-private',
    });
    expect(decideEgress(policy, { host: '10.9.9.9', port: 443, resolvedAddresses: [] })).toEqual({
      allow: false,
      rule: 3,
      reason: 'ip-literal-private',
    });
  });
  it.each([
    '127.0.0.1',
    '2130706433',
    '0x7f000001',
    '0177.0.0.1',
    '127.1',
    '0',
    '[::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '169.254.169.254',
    '[64:ff9b::a9fe:a9fe]',
  ])('3. IP literal %s in a private range → deny, even with * allowed on the port', (host) => {
    expect(decideEgress(policy, { host, port: 80, resolvedAddresses: [] })).toEqual({
      allow: false,
      rule: 3,
      reason: 'ip-literal-private',
    });
  });
  it('4. any resolved address private → deny (DNS rebinding to 127.0.0.1 / metadata)', () => {
    expect(decideEgress(policy, { host: 'api.github.com', port: 443, resolvedAddresses: ['140.82.112.6', '127.0.0.1'] })).toEqual({
      allow: false,
      rule: 4,
      reason: 'resolves-private',
    });
    expect(decideEgress(policy, { host: 'api.github.com', port: 443, resolvedAddresses: ['::ffff:169.254.169.254'] })).toEqual({
      allow: false,
      rule: 4,
      reason: 'resolves-private',
    });
    expect(decideEgress(policy, { host: 'api.github.com', port: 443, resolvedAddresses: ['garbage'] })).toEqual({
      allow: false,
      rule: 4,
      reason: 'resolves-private',
    });
  });
  it('4. special-use names are private whatever the resolver says', () => {
    expect(
      decideEgress({ allow: [{ host: '*', port: 80 }], blockPrivate: true }, { host: 'localhost', port: 80, resolvedAddresses: PUBLIC }),
    ).toEqual({ allow: false, rule: 4, reason: 'resolves-private' });
  });
  it('5. a name with no resolved addresses → deny', () => {
    expect(decideEgress(policy, { host: 'api.github.com', port: 443, resolvedAddresses: [] })).toEqual({
      allow: false,
      rule: 5,
      reason: 'no-addresses',
    });
  });
  it('6. allow rule matches host and port → allow', () => {
    expect(decideEgress(policy, { host: 'api.github.com', port: 443, resolvedAddresses: PUBLIC })).toEqual({
      allow: true,
      rule: 6,
      reason: 'allowlisted',
    });
    expect(decideEgress(policy, { host: 'API.GITHUB.COM.', port: 8443, resolvedAddresses: PUBLIC })).toMatchObject({
      allow: true,
      rule: 6,
    });
    expect(decideEgress(policy, { host: 'example.org', port: 80, resolvedAddresses: ['93.184.215.14'] })).toMatchObject({
      allow: true,
      rule: 6,
    });
    expect(decideEgress(policy, { host: '8.8.8.8', port: 80, resolvedAddresses: [] })).toMatchObject({ allow: true, rule: 6 });
  });
  it('7. host allowed on other ports only → deny (a * rule on another port counts)', () => {
    expect(decideEgress(policy, { host: 'evil.example', port: 443, resolvedAddresses: ['93.184.215.14'] })).toEqual({
      allow: false,
      rule: 7,
      reason: 'port-not-allowed',
    });
    expect(decideEgress(policy, { host: 'api.github.com', port: 22, resolvedAddresses: PUBLIC })).toEqual({
      allow: false,
      rule: 7,
      reason: 'port-not-allowed',
    });
  });
  it('8. nothing matches → deny', () => {
    const exact: EgressPolicy = { allow: [{ host: 'api.github.com', port: 443 }], blockPrivate: true };
    expect(decideEgress(exact, { host: 'evil.example', port: 443, resolvedAddresses: ['93.184.215.14'] })).toEqual({
      allow: false,
      rule: 8,
      reason: 'not-allowlisted',
    });
    expect(decideEgress(exact, { host: 'api.github.com.evil.example', port: 443, resolvedAddresses: PUBLIC })).toMatchObject({
      allow: false,
      rule: 8,
    });
    expect(decideEgress(exact, { host: 'evil-api.github.com', port: 443, resolvedAddresses: PUBLIC })).toMatchObject({
      allow: false,
      rule: 8,
    });
    expect(decideEgress({ allow: [], blockPrivate: true }, { host: 'api.github.com', port: 443, resolvedAddresses: PUBLIC })).toMatchObject(
      { allow: false, rule: 8 },
    );
  });
  it('ignores a malformed allow rule instead of matching everything', () => {
    const bad: EgressPolicy = {
      allow: [
        { host: 'a@b', port: 443 },
        { host: '', port: 443 },
      ],
      blockPrivate: true,
    };
    expect(decideEgress(bad, { host: 'api.github.com', port: 443, resolvedAddresses: PUBLIC })).toMatchObject({ allow: false, rule: 8 });
  });
});
