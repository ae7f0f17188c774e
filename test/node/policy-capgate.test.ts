/**
 * capgate compatibility: every string form capgate's grammar documents compiles to one
 * canonical IR form (the table in docs/policy.md "capgate forms" names these tests), and
 * the new forms are attacked: named endpoints that smuggle paths, assertion descriptions
 * with control characters or huge sizes, serverCapabilities that widen a tool, grammar pins.
 * Every refusal is checked for its code, its path and its reason, not only its code.
 */
import { describe, expect, it } from 'vitest';
import { capabilityText, compileManifest, compilePolicy, parseCapability, parseManifest, REASONS } from '../../src/policy/index.ts';

const tool = (capabilities: string[], extra: Record<string, unknown> = {}) => ({ name: 't', capabilities, ...extra });
const manifest = (capabilities: string[], extra: Record<string, unknown> = {}) => ({
  name: 'm',
  version: '1',
  ...extra,
  tools: [tool(capabilities)],
});

/** [capgate form, our canonical form] — the docs/policy.md table, row by row. */
export const CAPGATE_FORMS: [string, string][] = [
  ['fs:read,write:/workspace/**', 'fs:read,write:/workspace/**'],
  ['fs:read:/usr/share/zoneinfo', 'fs:read:/usr/share/zoneinfo'],
  ['net:connect:api.github.com:443', 'net:connect:api.github.com:443'],
  ['net:connect:*', 'net:connect:*:443'],
  ['exec:spawn:git', 'exec:spawn:git'],
  ['exec:spawn:chromium?nestedSandbox=true', 'exec:spawn:chromium?nestedSandbox=true'],
  ['exec:spawn:chromium?nestedSandbox=1', 'exec:spawn:chromium?nestedSandbox=true'],
  ['env:inject:GITHUB_PAT', 'env:inject:GITHUB_PAT'],
  ['env:read:_DEBUG', 'env:read:_DEBUG'],
  ['ipc:connect:x11', 'ipc:connect:x11'],
  ['ipc:connect:dbus:system', 'ipc:connect:/run/dbus/system_bus_socket'],
  ['ipc:connect:dbus:session', 'ipc:connect:dbus:session'],
  ['ipc:connect:unix:/run/app.sock', 'ipc:connect:/run/app.sock'],
  ['clock:system', 'clock:read:system'],
  ['clock:tzdata', 'clock:read:tzdata'],
  [
    'assert:postgres.read_only_txn:"all queries run in READ ONLY TRANSACTION"',
    'assert:postgres.read_only_txn:"all queries run in READ ONLY TRANSACTION"',
  ],
  [
    'assert:fetch.block_rfc1918:outbound requests to private ranges must be rejected',
    'assert:fetch.block_rfc1918:"outbound requests to private ranges must be rejected"',
  ],
  ['assert:db.note:"time: 10:00, place: here"', 'assert:db.note:"time: 10:00, place: here"'],
  ['assert:puppeteer.script_is_untrusted', 'assert:puppeteer.script_is_untrusted'],
];

describe('capgate forms normalise to one canonical form', () => {
  it.each(CAPGATE_FORMS)('%s → %s (and the canonical form is a fixed point)', (form, canonical) => {
    const parsed = parseCapability(form);
    if (!parsed.ok) throw new Error(`${form}: ${parsed.code}`);
    expect(capabilityText(parsed.capability)).toBe(canonical);
    const again = parseCapability(canonical);
    expect(again.ok && capabilityText(again.capability)).toBe(canonical);
  });

  it("the two spellings of one grant compile to the same IR (ours and capgate's)", () => {
    const ours = compilePolicy(manifest(['clock:read:tzdata', 'ipc:connect:/run/dbus/system_bus_socket', 'assert:a.b:"x: y"']));
    const theirs = compilePolicy(manifest(['clock:tzdata', 'ipc:connect:dbus:system', 'assert:a.b:x: y']));
    if (!ours.ok || !theirs.ok) throw new Error('did not compile');
    expect({ ...theirs.policy, provenance: '' }).toEqual({ ...ours.policy, provenance: '' });
  });
});

/** Parses `text` as the only capability of a tool and returns the error. */
function refusal(text: string) {
  const result = parseManifest(manifest([text]));
  if (result.ok) throw new Error(`${JSON.stringify(text)} was accepted`);
  return result.error;
}

describe('attacks on the new forms are refused with code, path, reason and the escaped value', () => {
  it.each([
    ['ipc:connect:x11/../../etc/shadow', 'CAP_IPC_PATH'],
    ['ipc:connect:x11/../../../run/docker.sock', 'CAP_IPC_PATH'],
    ['ipc:connect:unix:/run/../etc/shadow', 'CAP_IPC_PATH'],
    ['ipc:connect:unix:relative.sock', 'CAP_IPC_PATH'],
    ['ipc:connect:unix:/run/*', 'CAP_IPC_PATH'],
    ['ipc:connect:x11:/etc', 'CAP_IPC_PATH'],
    ['ipc:connect:x11:0', 'CAP_IPC_ENDPOINT'],
    ['ipc:connect:X11', 'CAP_IPC_ENDPOINT'],
    ['ipc:connect:x11?path=/etc', 'CAP_UNKNOWN_REFINEMENT'],
    ['ipc:connect:docker', 'CAP_IPC_ENDPOINT'],
    ['ipc:connect:constructor', 'CAP_IPC_ENDPOINT'],
    ['ipc:connect:dbus:system/../../etc', 'CAP_IPC_PATH'],
  ])('named endpoint smuggling %j → %s', (text, code) => {
    const error = refusal(text);
    expect(error).toMatchObject({ code, path: 'tools.0.capabilities.0', tool: 0, index: 0 });
    expect(error.message).toContain(JSON.stringify(text));
    expect(error.message.length).toBeGreaterThan(text.length + 20); // a reason, not only the value
  });

  it('an unknown endpoint name lists the names that exist', () => {
    expect(refusal('ipc:connect:wayland').message).toMatch(/x11, dbus:system, dbus:session/);
  });

  it('an assertion description with control characters is refused and the message escapes them', () => {
    const text = 'assert:a.b:"ok\u001b[2J\u0007 then\nfs:write:/etc"';
    const error = refusal(text);
    expect(error.code).toBe('CAP_CONTROL_CHAR');
    expect(error.message).toContain('\\u001b[2J\\u0007 then\\u000afs:write:/etc');
    // eslint-disable-next-line no-control-regex -- the point: no raw control character reaches a terminal
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('bidi overrides and other non-ASCII in a description are refused and escaped', () => {
    const error = refusal('assert:a.b:"safe \u202eevil"');
    expect(error.code).toBe('CAP_NON_ASCII');
    expect(error.message).toContain('\\u202e');
    expect(error.message).not.toContain('\u202e');
  });

  it('a huge description is refused and the message quotes at most 120 characters of it', () => {
    const big = `assert:a.b:"${'x'.repeat(100_000)}"`;
    const error = refusal(big);
    expect(error.code).toBe('CAP_TOO_LONG');
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).toContain(`${(big.length - 120).toLocaleString('en-US').replace(/,/g, '')} more characters`);
    const longButUnderCap = `assert:a.b:"${'y'.repeat(301)}"`;
    expect(refusal(longButUnderCap)).toMatchObject({ code: 'CAP_ASSERT_DESCRIPTION' });
    expect(refusal(longButUnderCap).message).toContain('300 characters');
  });

  it.each([
    ['assert:a.b:"x" and "y"', 'CAP_ASSERT_DESCRIPTION'],
    ['assert:a.b:"unterminated', 'CAP_ASSERT_DESCRIPTION'],
    ['assert:a.b:', 'CAP_ASSERT_DESCRIPTION'],
    ['assert:Fetch.Block_RFC1918', 'CAP_ASSERT_ID'],
    ['assert:fetch..block_rfc1918', 'CAP_ASSERT_ID'],
    ['assert:fetch.block rfc1918', 'CAP_ASSERT_ID'],
  ])('assertion %j → %s with its reason', (text, code) => {
    const error = refusal(text);
    expect(error.code).toBe(code);
    expect(
      error.message.startsWith(
        code === 'CAP_ASSERT_ID' && /[A-Z]/.test(text) ? 'assertion ids are lower case' : REASONS[code as 'CAP_ASSERT_ID'],
      ),
    ).toBe(true);
  });

  it('nestedSandbox outside exec is refused, saying it refines exec only', () => {
    const error = refusal('fs:read,write:/tmp/**?nestedSandbox=true');
    expect(error.code).toBe('CAP_UNKNOWN_REFINEMENT');
    expect(error.message).toContain('nestedSandbox refines exec:spawn only');
  });

  it('nestedSandbox values other than true/false/1/0 are refused (capgate would read them as false)', () => {
    expect(refusal('exec:spawn:chromium?nestedSandbox=yes')).toMatchObject({ code: 'CAP_REFINEMENT_VALUE' });
  });

  it('private IP literals, relative and .. paths stay refused in serverCapabilities too, with the serverCapabilities path', () => {
    for (const [text, code] of [
      ['net:connect:10.0.0.1:5432', 'CAP_NET_PRIVATE'],
      ['fs:read:workspace/**', 'CAP_FS_RELATIVE'],
      ['fs:read:/workspace/../etc/**', 'CAP_FS_TRAVERSAL'],
    ] as const) {
      const result = parseManifest(manifest([], { serverCapabilities: ['clock:tzdata', text] }));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toMatchObject({ code, path: 'serverCapabilities.1', index: 1 });
        expect(result.error.message).toContain(JSON.stringify(text));
      }
    }
  });
});

describe('serverCapabilities', () => {
  const server = {
    name: 'srv',
    version: '1',
    serverCapabilities: ['net:connect:*', 'fs:read,write:/tmp/**', 'exec:spawn:chromium?nestedSandbox=true'],
    tools: [tool([]), { name: 'other', capabilities: ['fs:read:/workspace/**'] }],
  };

  it('a tool that declares nothing gets them in a per-tool compile, and the artifact says they come from the server', () => {
    const result = compileManifest(server, { target: 'bwrap', tool: 't' });
    if (!result.ok) throw new Error(result.error.code);
    expect(result.artifact.serverCapabilities).toEqual([
      'exec:spawn:chromium?nestedSandbox=true',
      'fs:read,write:/tmp/**',
      'net:connect:*:443',
    ]);
    expect(result.artifact.notes[0]).toMatch(/^serverCapabilities: .* granted to tool t, whatever the tool declares itself\.$/);
    expect(result.artifact.egress.allow).toEqual([{ host: '*', port: 443 }]);
    expect(result.artifact.argv).toContain('/tmp');
    // The other tool's own grant does not leak into t.
    expect(result.artifact.argv).not.toContain('/workspace');
  });

  it('are merged into every tool, and a manifest without them says so with an empty list', () => {
    const other = compileManifest(server, { target: 'docker', tool: 'other' });
    if (!other.ok) throw new Error(other.error.code);
    expect(other.artifact.argv).toEqual(expect.arrayContaining(['/tmp:/tmp:rw', '/workspace:/workspace:ro']));
    const none = compileManifest(manifest(['clock:tzdata']), { target: 'docker' });
    expect(none.ok && none.artifact.serverCapabilities).toEqual([]);
  });

  it('count for the run binary check: a tool may run a binary the server declares', () => {
    const ok = parseManifest({
      name: 's',
      version: '1',
      serverCapabilities: ['exec:spawn:node'],
      tools: [tool([], { run: { argv: ['node', 'x.js'] } })],
    });
    expect(ok.ok).toBe(true);
    const refused = parseManifest({ name: 's', version: '1', tools: [tool([], { run: { argv: ['node', 'x.js'] } })] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'MANIFEST_RUN_UNDECLARED_EXEC', path: 'tools.0.run.argv.0' } });
    if (!refused.ok) expect(refused.error.message).toContain('Got "node"');
  });
});

describe('grammar pin', () => {
  it('accepts exactly "0.0"', () => {
    expect(parseManifest(manifest([], { grammar: '0.0' })).ok).toBe(true);
  });

  it.each([['1.0 '], ['01'], ['0.0 '], [' 0.0'], ['00.0'], ['0.0.0'], ['0'], ['0.1'], ['1.0'], [0], [0.0], [null], [['0.0']]])(
    'refuses %j with MANIFEST_GRAMMAR at grammar, naming the version we implement',
    (pin) => {
      const result = parseManifest(manifest([], { grammar: pin }));
      expect(result).toMatchObject({ ok: false, error: { code: 'MANIFEST_GRAMMAR', path: 'grammar' } });
      if (!result.ok) {
        expect(result.error.message).toContain('implements capgate grammar "0.0" only');
        expect(result.error.message).toContain(
          `Got ${typeof pin === 'string' ? JSON.stringify(pin) : `"${JSON.stringify(pin).replace(/"/g, '\\"')}"`}`,
        );
      }
    },
  );
});

describe('manifest fields', () => {
  it('documentation fields are accepted and change nothing but the provenance', () => {
    const plain = compilePolicy(manifest(['fs:read:/workspace/**']));
    const documented = compilePolicy(
      manifest(['fs:read:/workspace/**'], {
        description: 'd',
        title: 'T',
        homepage: 'https://example.com',
        license: 'MIT',
        author: { name: 'A' },
        keywords: ['k'],
        repository: { type: 'git', url: 'https://example.com/r.git' },
        $comment: 'c',
      }),
    );
    if (!plain.ok || !documented.ok) throw new Error('did not compile');
    expect({ ...documented.policy, provenance: '' }).toEqual({ ...plain.policy, provenance: '' });
    expect(documented.policy.provenance).not.toBe(plain.policy.provenance);
  });

  it.each([
    [
      { ...manifest([]), capabilities: ['net:connect:*'] },
      'capabilities',
      /unknown key "capabilities" in the manifest; allowed keys: \$schema, .*serverCapabilities, tools\./,
    ],
    [
      { name: 'm', version: '1', tools: [{ name: 't', capabilites: ['fs:read:/x'], capabilities: [] }] },
      'tools.0.capabilites',
      /unknown key "capabilites" in tools\.0; allowed keys: name, .*capabilities/,
    ],
    [
      { name: 'm', version: '1', tools: [{ name: 't', capabilities: [], run: { argv: ['x'], shell: true } }] },
      'tools.0.run.shell',
      /unknown key "shell" in tools\.0\.run; allowed keys: argv, mcp\./,
    ],
    [
      { name: 'm', version: '1', tools: [{ name: 't', capabilities: [], run: 'cat {path}' }] },
      'tools.0.run',
      /run is either \{"argv": \[\.\.\.\]\} or \{"mcp"/,
    ],
    [
      { name: 'm', version: '1', serverCapabilities: 'net:connect:*', tools: [tool([])] },
      'serverCapabilities',
      /expected array, found a string\. Got "net:connect:\*"/,
    ],
    [{ name: 'm', version: '1', tools: [{ capabilities: [] }] }, 'tools.0.name', /tools\.0\.name is required/],
    [
      { name: 'm', version: '1', tools: [tool([42 as unknown as string])] },
      'tools.0.capabilities.0',
      /expected string, found a number\. Got "42"/,
    ],
  ])('shape error %# names the key and says what is allowed', (input, path, message) => {
    const result = parseManifest(input);
    expect(result).toMatchObject({ ok: false, error: { code: 'MANIFEST_SHAPE', path } });
    if (!result.ok) expect(result.error.message).toMatch(message);
  });

  it('an unknown key with control characters in its name is escaped in the message', () => {
    const result = parseManifest({ ...manifest([]), 'x\u001b]0;owned\u0007': 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.path).toBe('x\\u001b]0;owned\\u0007');
      // eslint-disable-next-line no-control-regex -- no raw control character may reach a terminal
      for (const text of [result.error.path, result.error.message]) expect(text).not.toMatch(/[\u0000-\u001f]/);
    }
  });
});

describe('assertions in artifacts', () => {
  const m = manifest([
    'net:connect:*',
    'assert:fetch.block_rfc1918:private ranges refused',
    'assert:postgres.read_only_txn',
    'assert:postgres.read_only_txn:"READ ONLY"',
  ]);
  it.each([['bwrap'], ['docker'], ['egress'], ['cloudflare'], ['k8s']] as const)(
    '%s carries every assertion with its description; only fetch.block_rfc1918 says Portcullis enforces it',
    (target) => {
      const result = compileManifest(m, { target });
      if (!result.ok) throw new Error(result.error.code);
      const assertions = result.artifact.assertions;
      expect(assertions.map((a) => [a.id, a.description])).toEqual([
        ['fetch.block_rfc1918', 'private ranges refused'],
        ['postgres.read_only_txn', undefined],
        ['postgres.read_only_txn', 'READ ONLY'],
      ]);
      expect(assertions[0]?.enforcedBy).toMatch(/egress decision/);
      expect(assertions.slice(1).every((a) => a.enforcedBy === undefined)).toBe(true);
      if (target === 'egress') {
        // Enforced here too (the private ranges are denied first), so not listed as unenforceable; the others are.
        expect(result.artifact.unenforceable.map((u) => u.capability)).toEqual([
          'assert:postgres.read_only_txn',
          'assert:postgres.read_only_txn:"READ ONLY"',
        ]);
      }
    },
  );

  it('an id that only looks like the enforced one is not marked enforced', () => {
    const result = compileManifest(manifest(['assert:fetch.block_rfc1918x', 'assert:fetch.block-rfc1918']), { target: 'bwrap' });
    expect(result.ok && result.artifact.assertions.map((a) => a.enforcedBy)).toEqual([undefined, undefined]);
  });
});

describe('named endpoints per target', () => {
  const compile = (target: 'bwrap' | 'docker' | 'cloudflare' | 'k8s', caps: string[]) => {
    const result = compileManifest(manifest(caps), { target });
    if (!result.ok) throw new Error(result.error.code);
    return result.artifact;
  };

  it('x11: bwrap and docker mount /tmp/.X11-unix read-only and pass DISPLAY through; cloudflare and k8s refuse it in unenforceable', () => {
    const bwrap = compile('bwrap', ['ipc:connect:x11']).argv ?? [];
    const at = bwrap.indexOf('/tmp/.X11-unix');
    expect(bwrap[at - 1]).toBe('--ro-bind');
    expect(bwrap.indexOf('--tmpfs')).toBeLessThan(at); // mounted over the private /tmp, not hidden by it
    expect(compile('docker', ['ipc:connect:x11']).argv).toEqual(
      expect.arrayContaining(['/tmp/.X11-unix:/tmp/.X11-unix:ro', '--env', 'DISPLAY']),
    );
    expect(compile('bwrap', ['ipc:connect:x11']).envInjections).toEqual([{ name: 'DISPLAY', source: 'passthrough' }]);
    for (const target of ['cloudflare', 'k8s'] as const)
      expect(compile(target, ['ipc:connect:x11']).unenforceable.map((u) => u.capability)).toEqual(['ipc:connect:x11']);
  });

  it('dbus:session is never mounted: every target lists it in unenforceable with the reason', () => {
    for (const target of ['bwrap', 'docker', 'cloudflare', 'k8s'] as const) {
      const artifact = compile(target, ['ipc:connect:dbus:session']);
      expect(artifact.unenforceable.map((u) => u.capability)).toEqual(['ipc:connect:dbus:session']);
      expect(JSON.stringify(artifact.argv ?? artifact.config)).not.toMatch(/\/run\/user|bus/);
    }
    expect(compile('bwrap', ['ipc:connect:dbus:session']).unenforceable[0]?.reason).toMatch(/per user/);
  });
});
