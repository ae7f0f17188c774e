import { describe, expect, it } from 'vitest';
import { capabilityText, parseCapability } from './capability';
import { CAPABILITY_ERROR_CODES, type CapabilityErrorCode, quoteValue, REASONS } from './errors';
import { parseManifest } from './manifest';

/** Every malformed string with the code docs/policy.md documents for it. */
const MALFORMED: [string, CapabilityErrorCode][] = [
  ['', 'CAP_EMPTY'],
  [`fs:read:/${'a'.repeat(600)}`, 'CAP_TOO_LONG'],
  ['fs:read:/tmp/a\u0000b', 'CAP_CONTROL_CHAR'],
  ['fs:read:/tmp/a\nfs:write:/etc', 'CAP_CONTROL_CHAR'],
  ['net:connect:api.github.com\r:443', 'CAP_CONTROL_CHAR'],
  ['env:read:HOME\u007f', 'CAP_CONTROL_CHAR'],
  ['net:connect:bücher.de:443', 'CAP_NON_ASCII'],
  ['fs:read:/tmp/ﬁle', 'CAP_NON_ASCII'],
  ['fs', 'CAP_MALFORMED'],
  ['fs:read', 'CAP_MALFORMED'],
  ['fs:read:', 'CAP_MALFORMED'],
  ['fs::/tmp', 'CAP_MALFORMED'],
  ['fs:read,:/tmp', 'CAP_MALFORMED'],
  ['fs:read: /tmp', 'CAP_MALFORMED'],
  ['exec:spawn:git?', 'CAP_MALFORMED'],
  ['exec:spawn:git?nestedSandbox', 'CAP_MALFORMED'],
  ['file:read:/tmp', 'CAP_UNKNOWN_KIND'],
  ['FS:read:/tmp', 'CAP_UNKNOWN_KIND'],
  ['network', 'CAP_UNKNOWN_KIND'],
  ['__proto__:read:/tmp', 'CAP_UNKNOWN_KIND'],
  ['fs:execute:/tmp', 'CAP_UNKNOWN_ACTION'],
  ['net:listen:0.0.0.0:80', 'CAP_UNKNOWN_ACTION'],
  ['exec:run:git', 'CAP_UNKNOWN_ACTION'],
  ['env:write:HOME', 'CAP_UNKNOWN_ACTION'],
  ['clock:set:system', 'CAP_UNKNOWN_ACTION'],
  ['fs:read,read:/tmp', 'CAP_ACTION_DUPLICATE'],
  ['fs:read:tmp/file', 'CAP_FS_RELATIVE'],
  ['fs:read:./file', 'CAP_FS_RELATIVE'],
  ['fs:read:~/file', 'CAP_FS_RELATIVE'],
  ['fs:read:/workspace/../etc/shadow', 'CAP_FS_TRAVERSAL'],
  ['fs:write:/workspace/..', 'CAP_FS_TRAVERSAL'],
  ['fs:read:/workspace/./x', 'CAP_FS_TRAVERSAL'],
  ['fs:read:/workspace//x', 'CAP_FS_PATH'],
  ['fs:read:/workspace/', 'CAP_FS_PATH'],
  ['fs:read:/work\\space', 'CAP_FS_PATH'],
  ['fs:read:/work$pace', 'CAP_FS_PATH'],
  ['fs:read:/home/*/x', 'CAP_FS_GLOB'],
  ['fs:read:/workspace/**/x', 'CAP_FS_GLOB'],
  ['fs:read:/workspace/*.txt', 'CAP_FS_GLOB'],
  ['fs:read:/', 'CAP_FS_TOO_BROAD'],
  ['fs:write:/**', 'CAP_FS_TOO_BROAD'],
  ['net:connect:', 'CAP_MALFORMED'],
  ['net:connect:a@api.github.com:443', 'CAP_NET_HOST'],
  ['net:connect:*.github.com:443', 'CAP_NET_HOST'],
  ['net:connect:api..github.com', 'CAP_NET_HOST'],
  ['net:connect:[::1:443', 'CAP_NET_HOST'],
  ['net:connect:::1:443', 'CAP_NET_HOST'],
  ['net:connect:api.github.com/v3', 'CAP_NET_HOST'],
  ['net:connect:https://api.github.com', 'CAP_NET_PORT'],
  ['net:connect:127.0.0.1:443', 'CAP_NET_PRIVATE'],
  ['net:connect:2130706433:443', 'CAP_NET_PRIVATE'],
  ['net:connect:0x7f000001', 'CAP_NET_PRIVATE'],
  ['net:connect:0177.0.0.1:80', 'CAP_NET_PRIVATE'],
  ['net:connect:127.1', 'CAP_NET_PRIVATE'],
  ['net:connect:0:80', 'CAP_NET_PRIVATE'],
  ['net:connect:169.254.169.254:80', 'CAP_NET_PRIVATE'],
  ['net:connect:10.0.0.1:5432', 'CAP_NET_PRIVATE'],
  ['net:connect:[::1]:443', 'CAP_NET_PRIVATE'],
  ['net:connect:[::ffff:127.0.0.1]:443', 'CAP_NET_PRIVATE'],
  ['net:connect:[fd00::1]', 'CAP_NET_PRIVATE'],
  ['net:connect:localhost:8080', 'CAP_NET_PRIVATE'],
  ['net:connect:api.github.com:0', 'CAP_NET_PORT'],
  ['net:connect:api.github.com:65536', 'CAP_NET_PORT'],
  ['net:connect:api.github.com:', 'CAP_NET_PORT'],
  ['net:connect:api.github.com:0443', 'CAP_NET_PORT'],
  ['net:connect:api.github.com:https', 'CAP_NET_PORT'],
  ['net:connect:*:-1', 'CAP_NET_PORT'],
  ['exec:spawn:/usr/bin/git', 'CAP_EXEC_PATH'],
  ['exec:spawn:../git', 'CAP_EXEC_PATH'],
  ['exec:spawn:-rf', 'CAP_EXEC_NAME'],
  ['exec:spawn:.hidden', 'CAP_EXEC_NAME'],
  ['exec:spawn:git;rm', 'CAP_EXEC_NAME'],
  ['env:read:home', 'CAP_ENV_NAME'],
  ['env:inject:GITHUB-TOKEN', 'CAP_ENV_NAME'],
  ['env:read:1PASSWORD', 'CAP_ENV_NAME'],
  ['env:read:*', 'CAP_ENV_NAME'],
  ['ipc:connect:run/docker.sock', 'CAP_IPC_PATH'],
  ['ipc:connect:/run/../docker.sock', 'CAP_IPC_PATH'],
  ['ipc:connect:/run/**', 'CAP_IPC_PATH'],
  ['clock:read:monotonic', 'CAP_CLOCK_SCOPE'],
  ['clock:read:TZDATA', 'CAP_CLOCK_SCOPE'],
  ['assert:', 'CAP_ASSERT_ID'],
  ['assert:No-Telemetry', 'CAP_ASSERT_ID'],
  ['assert:no telemetry', 'CAP_ASSERT_ID'],
  ['assert:no-telemetry:"half" quoted', 'CAP_ASSERT_DESCRIPTION'],
  ['assert:no-telemetry:back\\slash', 'CAP_ASSERT_DESCRIPTION'],
  ['assert:no-telemetry:   ', 'CAP_ASSERT_DESCRIPTION'],
  ['assert:fetch..block', 'CAP_ASSERT_ID'],
  ['assert:.fetch', 'CAP_ASSERT_ID'],
  ['assert:fetch.', 'CAP_ASSERT_ID'],
  ['assert:Fetch.Block_RFC1918', 'CAP_ASSERT_ID'],
  [`assert:${'a'.repeat(129)}`, 'CAP_ASSERT_ID'],
  ['assert:no-telemetry:""', 'CAP_ASSERT_DESCRIPTION'],
  ['assert:no-telemetry:"a"b"', 'CAP_ASSERT_DESCRIPTION'],
  [`assert:no-telemetry:"${'x'.repeat(301)}"`, 'CAP_ASSERT_DESCRIPTION'],
  ['ipc:connect:wayland', 'CAP_IPC_ENDPOINT'],
  ['ipc:connect:X11', 'CAP_IPC_ENDPOINT'],
  ['ipc:connect:x11:0', 'CAP_IPC_ENDPOINT'],
  ['ipc:connect:dbus:user', 'CAP_IPC_ENDPOINT'],
  ['ipc:connect:__proto__', 'CAP_IPC_ENDPOINT'],
  ['ipc:connect:x11/../../etc/shadow', 'CAP_IPC_PATH'],
  ['ipc:connect:unix:run/docker.sock', 'CAP_IPC_PATH'],
  ['ipc:connect:unix:/run/../etc/shadow', 'CAP_IPC_PATH'],
  ['ipc:connect:unix:unix:/run/x.sock', 'CAP_IPC_PATH'],
  ['clock:monotonic', 'CAP_CLOCK_SCOPE'],
  ['clock:tzdata?nestedSandbox=true', 'CAP_UNKNOWN_REFINEMENT'],
  ['fs:read:/tmp?nestedSandbox=true', 'CAP_UNKNOWN_REFINEMENT'],
  ['fs:read:/tmp?recursive=true', 'CAP_UNKNOWN_REFINEMENT'],
  ['exec:spawn:chromium?nestedsandbox=true', 'CAP_UNKNOWN_REFINEMENT'],
  ['exec:spawn:chromium?__proto__=true', 'CAP_UNKNOWN_REFINEMENT'],
  ['net:connect:api.github.com:443?nestedSandbox=true', 'CAP_UNKNOWN_REFINEMENT'],
  ['exec:spawn:chromium?nestedSandbox=yes', 'CAP_REFINEMENT_VALUE'],
  ['exec:spawn:chromium?nestedSandbox=', 'CAP_REFINEMENT_VALUE'],
  ['exec:spawn:chromium?nestedSandbox=true&nestedSandbox=true', 'CAP_REFINEMENT_DUPLICATE'],
];

describe('capability grammar: malformed strings fail closed with a stable code', () => {
  it('has at least 40 cases and exercises every documented capability code', () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(40);
    expect(new Set(MALFORMED.map(([, code]) => code))).toEqual(new Set(CAPABILITY_ERROR_CODES));
  });

  it.each(MALFORMED)('%j → %s', (text, code) => {
    expect(parseCapability(text)).toMatchObject({ ok: false, code });
  });

  it.each(MALFORMED)('%j in a manifest: the error names its path, its reason and the quoted value', (text, code) => {
    const result = parseManifest({ name: 'm', version: '1', tools: [{ name: 't', capabilities: ['clock:tzdata', text] }] });
    if (result.ok) throw new Error('accepted');
    expect(result.error).toMatchObject({ code, path: 'tools.0.capabilities.1', tool: 0, index: 1 });
    const parsed = parseCapability(text);
    const reason = !parsed.ok && parsed.detail !== undefined ? parsed.detail : REASONS[code];
    expect(result.error.message).toBe(`${reason} Got ${quoteValue(text)}.`);
    // eslint-disable-next-line no-control-regex -- escaped: no raw control character in a message
    expect(result.error.message).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});

describe('capability grammar: valid strings', () => {
  it.each([
    ['fs:read:/workspace/**', 'fs:read:/workspace/**'],
    ['fs:read,write:/data/memory.json', 'fs:read,write:/data/memory.json'],
    ['net:connect:api.github.com', 'net:connect:api.github.com:443'],
    ['net:connect:API.GitHub.com.:8443', 'net:connect:api.github.com:8443'],
    ['net:connect:*:80', 'net:connect:*:80'],
    ['net:connect:[2606:4700:4700::1111]:853', 'net:connect:[2606:4700:4700::1111]:853'],
    ['net:connect:134744072:53', 'net:connect:8.8.8.8:53'],
    ['exec:spawn:git', 'exec:spawn:git'],
    ['exec:spawn:chromium?nestedSandbox=true', 'exec:spawn:chromium?nestedSandbox=true'],
    ['exec:spawn:node?nestedSandbox=false', 'exec:spawn:node'],
    ['env:read,inject:GITHUB_TOKEN', 'env:read,inject:GITHUB_TOKEN'],
    ['ipc:connect:/run/user/1000/bus', 'ipc:connect:/run/user/1000/bus'],
    ['ipc:connect:unix:/run/user/1000/bus', 'ipc:connect:/run/user/1000/bus'],
    ['ipc:connect:x11', 'ipc:connect:x11'],
    ['ipc:connect:dbus:system', 'ipc:connect:/run/dbus/system_bus_socket'],
    ['ipc:connect:dbus:session', 'ipc:connect:dbus:session'],
    ['clock:read:tzdata', 'clock:read:tzdata'],
    ['clock:tzdata', 'clock:read:tzdata'],
    ['clock:system', 'clock:read:system'],
    ['exec:spawn:chromium?nestedSandbox=1', 'exec:spawn:chromium?nestedSandbox=true'],
    ['exec:spawn:chromium?nestedSandbox=0', 'exec:spawn:chromium'],
    ['env:inject:_PRIVATE_TOKEN', 'env:inject:_PRIVATE_TOKEN'],
    [
      'assert:fetch.block_rfc1918:outbound requests to private ranges: refused',
      'assert:fetch.block_rfc1918:"outbound requests to private ranges: refused"',
    ],
    ['assert:postgres.read_only_txn:"all queries: READ ONLY"', 'assert:postgres.read_only_txn:"all queries: READ ONLY"'],
    ['assert:no-telemetry', 'assert:no-telemetry'],
    ['assert:read-only:"Queries run in a READ ONLY transaction?"', 'assert:read-only:"Queries run in a READ ONLY transaction?"'],
  ])('%s parses to %s', (text, canonical) => {
    const parsed = parseCapability(text);
    if (!parsed.ok) throw new Error(parsed.code);
    expect(capabilityText(parsed.capability)).toBe(canonical);
    // The canonical text is itself valid and a fixed point.
    const again = parseCapability(canonical);
    expect(again.ok && capabilityText(again.capability)).toBe(canonical);
  });
});

describe('private destinations and operator allowances (privateAllowed)', () => {
  const privateAllowed = [
    { host: '10.1.2.3', port: 8443 },
    { host: 'localhost', port: 8080 },
  ];
  it.each([
    ['net:connect:10.1.2.3:8443', { kind: 'net', host: '10.1.2.3', port: 8443 }],
    ['net:connect:0x0a010203:8443', { kind: 'net', host: '10.1.2.3', port: 8443 }],
    ['net:connect:LOCALHOST:8080', { kind: 'net', host: 'localhost', port: 8080 }],
  ])('accepts %s when an allowance names exactly that host and port (any spelling)', (text, capability) => {
    expect(parseCapability(text, { privateAllowed })).toEqual({ ok: true, capability });
  });
  it.each([
    'net:connect:10.1.2.3:443',
    'net:connect:10.1.2.3',
    'net:connect:10.1.2.4:8443',
    'net:connect:localhost:8443',
    'net:connect:127.0.0.1:8080',
  ])('still refuses %s (no exact allowance)', (text) => {
    expect(parseCapability(text, { privateAllowed })).toEqual({ ok: false, code: 'CAP_NET_PRIVATE' });
  });
  it('without allowances a private destination is refused as before', () => {
    expect(parseCapability('net:connect:10.1.2.3:8443')).toEqual({ ok: false, code: 'CAP_NET_PRIVATE' });
  });
});
