import { describe, expect, it } from 'vitest';
import { exfiltrationDecision, exfiltrationVerdict, toolHasEgress } from './exfiltration';

const tool = (...capabilities: string[]) => ({ capabilities });

describe('toolHasEgress', () => {
  // Ways a tool might reach the network while looking harmless to a regex.
  const egress: [string, string[], string[]][] = [
    ['net:connect to a host', ['net:connect:api.github.com'], []],
    ['net:connect with a port', ['net:connect:api.github.com:8443'], []],
    ['net:connect to a wildcard subdomain', ['net:connect:*.example.com'], []],
    ['net:connect granted by the manifest to every tool', [], ['net:connect:api.example.com']],
    ['an IPC socket (a daemon outside the sandbox)', ['ipc:connect:/var/run/docker.sock'], []],
    ['a named IPC endpoint', ['ipc:connect:dbus:system'], []],
    ['a private destination only the operator can open (does not parse here)', ['net:connect:10.0.0.5'], []],
    ['a capability this grammar does not know', ['net:listen:0.0.0.0'], []],
    ['a malformed capability', ['net connect example.com'], []],
    ['egress hidden after harmless capabilities', ['fs:read:/data/**', 'clock:system', 'net:connect:example.com'], []],
  ];

  it.each(egress)('counts as egress: %s', (_name, capabilities, server) => {
    expect(toolHasEgress(tool(...capabilities), server)).toBe(true);
  });

  const local: [string, string[], string[]][] = [
    ['no capabilities', [], []],
    ['files only', ['fs:read:/data/**', 'fs:read,write:/tmp/work/**'], []],
    ['a binary and the clock', ['exec:spawn:python3', 'clock:system'], []],
    ['an environment variable', ['env:read:LANG'], ['fs:read:/etc/ssl/certs/**']],
    ['an assertion', ['assert:no-network:"works offline"'], []],
  ];

  it.each(local)('counts as local: %s', (_name, capabilities, server) => {
    expect(toolHasEgress(tool(...capabilities), server)).toBe(false);
  });
});

describe('exfiltrationDecision (rules 1–5)', () => {
  const cases: [string, 'off' | 'withhold' | 'approval', boolean, boolean, string][] = [
    ['1. off offers even egress in a tainted turn', 'off', true, true, 'offer'],
    ['2. a local tool is offered in a tainted turn', 'withhold', true, false, 'offer'],
    ['3. an egress tool is offered before anything untrusted was seen', 'withhold', false, true, 'offer'],
    ['4. approval mode asks a human', 'approval', true, true, 'needs-approval'],
    ['5. withhold mode withholds', 'withhold', true, true, 'withhold'],
  ];

  it.each(cases)('%s', (_name, exfiltration, tainted, egress, expected) => {
    expect(exfiltrationDecision({ exfiltration }, { tainted }, { egress })).toBe(expected);
  });

  it('records a verdict with the rule and tool, and nothing for an offer', () => {
    expect(exfiltrationVerdict({ exfiltration: 'withhold' }, 'withhold', 'http_get', 'dispatch')).toEqual({
      guard: 'exfiltration',
      mode: 'withhold',
      outcome: 'withheld',
      reasons: ['egress-after-untrusted', 'tool:http_get', 'at:dispatch'],
    });
    expect(exfiltrationVerdict({ exfiltration: 'withhold' }, 'offer', 'http_get', 'offer')).toBeNull();
  });
});
