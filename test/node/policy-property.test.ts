/**
 * Property test: for random valid manifests (seeded, reproducible), every target's artifact
 * (1) shows every declared capability or lists it in `unenforceable`, and (2) grants nothing
 * undeclared: no host environment, no network without net:, no writable path without write.
 */
import { describe, expect, it } from 'vitest';
import { bwrapMounts, dockerRun, type Mount } from './sandbox-argv.ts';
import {
  type Artifact,
  type CompileOptions,
  compileManifest,
  NAMED_IPC_ENDPOINTS,
  type NormalizedPolicy,
  parseCapability,
  parseHost,
} from '../../src/policy/index.ts';

/** mulberry32: tiny seeded PRNG, enough to make failures reproducible from the seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

type Rng = ReturnType<typeof rng>;
const SEGMENTS = ['workspace', 'data', 'srv', 'a', 'b', 'repo', 'cache', 'x.json'];
const HOSTS = ['api.example.com', 'uploads.example.org', 'API.Example.com.', '8.8.8.8', '[2606:4700::1111]', '*', 'xn--bcher-kva.example'];
const BINARIES = ['node', 'git', 'python3', 'chromium', 'cat'];
const ENV = ['GITHUB_TOKEN', 'API_KEY', 'HOME_DIR', 'LOG_LEVEL'];

function randomCapability(r: Rng): string {
  switch (r.int(7)) {
    case 0: {
      const actions = ['read', 'write', 'create', 'delete'].filter(() => r.next() < 0.4);
      const depth = 1 + r.int(3);
      const path = `/${Array.from({ length: depth }, () => r.pick(SEGMENTS)).join('/')}`;
      return `fs:${(actions.length ? actions : ['read']).join(',')}:${path}${r.next() < 0.5 ? '/**' : ''}`;
    }
    case 1:
      return `net:connect:${r.pick(HOSTS)}${r.next() < 0.7 ? `:${r.pick([443, 80, 8443, 5432, 1 + r.int(65535)])}` : ''}`;
    case 2:
      return `exec:spawn:${r.pick(BINARIES)}${r.next() < 0.2 ? '?nestedSandbox=true' : ''}`;
    case 3:
      return `env:${r.pick(['read', 'inject', 'read,inject'])}:${r.pick(ENV)}`;
    case 4:
      // Our socket paths and capgate's endpoint forms (named endpoints, unix:/path).
      return `ipc:connect:${r.pick(['/run/dbus.sock', '/run/docker.sock', 'unix:/run/user.sock', 'x11', 'dbus:system', 'dbus:session', '/run/dbus/system_bus_socket'])}`;
    case 5:
      return r.next() < 0.5 ? `clock:read:${r.pick(['system', 'tzdata'])}` : `clock:${r.pick(['system', 'tzdata'])}`;
    default:
      return `assert:${r.pick(['no-telemetry', 'read-only', 'fetch.block_rfc1918', 'postgres.read_only_txn'])}${r.pick(['', ':"claimed: by the publisher"', ':bare words: with colons'])}`;
  }
}

function randomManifest(r: Rng) {
  const tools = Array.from({ length: 1 + r.int(4) }, (_, i) => ({
    name: `tool${i}`,
    capabilities: Array.from({ length: r.int(9) }, () => randomCapability(r)),
  }));
  // capgate's serverCapabilities, granted to every tool, in about half of the manifests.
  const server = r.next() < 0.5 ? { serverCapabilities: Array.from({ length: r.int(4) }, () => randomCapability(r)) } : {};
  return { name: 'random', version: '1.0.0', ...server, tools };
}

const VARIANTS: CompileOptions[] = [
  { target: 'bwrap' },
  { target: 'docker' },
  { target: 'egress', egressTarget: 'squid' },
  { target: 'egress', egressTarget: 'nftables' },
  { target: 'cloudflare' },
  { target: 'k8s' },
];

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** Mount-like entries of an artifact. bwrap and docker argvs are parsed fully (sandbox-argv.ts): an unknown option throws. */
function mounts(artifact: Artifact): Mount[] {
  if (artifact.target === 'bwrap') return bwrapMounts(artifact.argv ?? []);
  if (artifact.target === 'docker') return dockerRun(artifact.argv ?? []).mounts;
  if (artifact.target === 'k8s') {
    const container = (artifact.config as { pod: { spec: { containers: { volumeMounts: { mountPath: string }[] }[] } } }).pod.spec
      .containers[0];
    return (container?.volumeMounts ?? [])
      .filter((mount) => mount.mountPath !== '/tmp')
      .map((mount) => ({ option: 'volumeMount', source: mount.mountPath, target: mount.mountPath, writable: true }));
  }
  return [];
}

/** Host paths every bwrap sandbox gets read-only, whatever it declares (restated from docs/policy.md, not imported, so a change shows here). */
const BWRAP_SYSTEM_RO = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/lib32',
  '/etc/ld.so.cache',
  '/etc/ssl/certs',
  '/etc/ca-certificates',
  '/etc/alternatives',
];
const TZDATA_FILES = ['/etc/localtime', '/etc/timezone'];

function unenforceableCovers(artifact: Artifact, text: string, fsPath?: string): boolean {
  return artifact.unenforceable.some((entry) => {
    if (entry.capability === text) return true;
    if (fsPath === undefined || !entry.capability.startsWith('fs:')) return false;
    const root = entry.capability.slice(entry.capability.indexOf(':/') + 1).replace(/\/\*\*$/, '');
    return under(fsPath, root);
  });
}

function envNamesOf(artifact: Artifact): string[] {
  const argv = artifact.argv ?? [];
  if (artifact.target === 'docker') return argv.flatMap((arg, i) => (arg === '--env' ? [argv[i + 1] ?? ''] : []));
  if (artifact.target === 'k8s')
    return (
      (artifact.config as { pod: { spec: { containers: { env: { name: string }[] }[] } } }).pod.spec.containers[0]?.env.map(
        (e) => e.name,
      ) ?? []
    );
  if (artifact.target === 'cloudflare') {
    const config = artifact.config as { credentials: string[]; envPassthrough: string[] };
    return [...config.credentials, ...config.envPassthrough];
  }
  return artifact.envInjections.map((entry) => entry.name);
}

function checkDeclaredPresent(artifact: Artifact, policy: NormalizedPolicy): void {
  for (const text of policy.declared) {
    const parsed = parseCapability(text);
    if (!parsed.ok) throw new Error(`declared capability does not reparse: ${text}`);
    const cap = parsed.capability;
    const listed = unenforceableCovers(artifact, text, cap.kind === 'fs' ? cap.path : undefined);
    let present = false;
    switch (cap.kind) {
      case 'fs': {
        const needWrite = cap.actions.some((a) => a !== 'read');
        present = mounts(artifact).some((mount) => under(cap.path, mount.target) && (mount.writable || !needWrite));
        break;
      }
      case 'net':
        present =
          artifact.target !== 'egress' ||
          artifact.egressTarget === 'squid' ||
          (artifact.config as string).includes(`dport ${cap.port} accept`);
        present &&= artifact.egress.allow.some((rule) => (rule.host === cap.host || rule.host === '*') && rule.port === cap.port);
        if (artifact.target === 'egress' && artifact.egressTarget === 'squid')
          present &&= (artifact.config as string).includes(`port ${cap.port}`);
        break;
      case 'exec':
        present = artifact.exec.some((e) => e.binary === cap.binary);
        if (cap.nestedSandbox) present &&= artifact.target === 'bwrap' && !(artifact.argv ?? []).includes('--disable-userns');
        break;
      case 'env':
        present = envNamesOf(artifact).includes(cap.name) && artifact.envInjections.some((e) => e.name === cap.name);
        break;
      case 'ipc': {
        // A named endpoint mounts its socket path (x11: its socket directory, read-only).
        const named = Object.hasOwn(NAMED_IPC_ENDPOINTS, cap.endpoint) ? NAMED_IPC_ENDPOINTS[cap.endpoint] : undefined;
        const expected = named ? named.path : cap.endpoint;
        present =
          expected !== null && mounts(artifact).some((mount) => mount.target === expected && (mount.writable || named?.directory === true));
        break;
      }
      case 'clock':
        present = artifact.clock[cap.scope];
        break;
      case 'assert':
        present = artifact.assertions.some((a) => a.id === cap.id);
        break;
    }
    expect(
      present || listed,
      `${artifact.target}${artifact.egressTarget ? `/${artifact.egressTarget}` : ''}: ${text} neither present nor unenforceable`,
    ).toBe(true);
  }
}

function checkNothingUndeclared(artifact: Artifact, policy: NormalizedPolicy): void {
  const label = `${artifact.target}${artifact.egressTarget ? `/${artifact.egressTarget}` : ''}`;
  const writableDeclared = (path: string) =>
    policy.declared.some((text) => {
      const parsed = parseCapability(text);
      if (!parsed.ok) return false;
      const cap = parsed.capability;
      if (cap.kind === 'ipc') return policy.ipc.some((g) => g.endpoint === cap.endpoint && g.path === path && !g.directory);
      return cap.kind === 'fs' && cap.actions.some((a) => a !== 'read') && (cap.path === path || (cap.tree && under(path, cap.path)));
    });
  const readableDeclared = (path: string) =>
    writableDeclared(path) ||
    // A named IPC endpoint that is a socket directory (x11) is mounted read-only.
    policy.ipc.some((g) => g.directory && g.path === path) ||
    policy.declared.some((text) => {
      const parsed = parseCapability(text);
      return (
        parsed.ok &&
        parsed.capability.kind === 'fs' &&
        (parsed.capability.path === path || (parsed.capability.tree && under(path, parsed.capability.path)))
      );
    });
  for (const mount of mounts(artifact)) {
    if (mount.writable) {
      // Both ends: the host path that is exposed and where it appears in the sandbox.
      expect(writableDeclared(mount.source), `${label}: writable ${mount.source} not declared (${mount.option})`).toBe(true);
      expect(writableDeclared(mount.target), `${label}: writable ${mount.target} not declared (${mount.option})`).toBe(true);
    } else if (artifact.target === 'bwrap' || artifact.target === 'docker') {
      const system = artifact.target === 'bwrap' && BWRAP_SYSTEM_RO.includes(mount.source) && mount.target === mount.source;
      const tzdata = artifact.clock.tzdata && TZDATA_FILES.includes(mount.source) && mount.target === mount.source;
      expect(
        system || tzdata || (readableDeclared(mount.source) && readableDeclared(mount.target)),
        `${label}: read-only ${mount.source} not declared (${mount.option})`,
      ).toBe(true);
    }
  }
  const declaredEnv = new Set(policy.env.read.concat(policy.env.inject));
  for (const name of envNamesOf(artifact)) expect(declaredEnv.has(name), `${label}: env ${name} not declared`).toBe(true);
  const hasNet = policy.net.length > 0;
  for (const rule of artifact.egress.allow)
    expect(
      policy.net.some((g) => g.host === rule.host && g.port === rule.port),
      `${label}: egress ${rule.host}`,
    ).toBe(true);
  expect(artifact.egress.blockPrivate).toBe(true);
  const argv = artifact.argv ?? [];
  if (artifact.target === 'bwrap') {
    expect(argv).toContain('--unshare-net');
    expect(argv).toContain('--clearenv');
    expect(argv).not.toContain('--share-net');
    const setenv = argv.flatMap((arg, i) => (arg === '--setenv' ? [argv[i + 1]] : []));
    expect(setenv).toEqual(['PATH', 'HOME']);
  }
  if (artifact.target === 'docker') {
    expect(argv[argv.indexOf('--network') + 1] === 'none').toBe(!hasNet);
    expect(argv.some((a) => a === '--privileged' || a === '--cap-add' || a.startsWith('--env-file'))).toBe(false);
  }
  if (artifact.target === 'cloudflare') {
    const config = artifact.config as { enableInternet: boolean; interceptHttps: boolean; allowedHosts: unknown[] };
    expect(config.enableInternet).toBe(false);
    expect(config.interceptHttps).toBe(true);
    expect(config.allowedHosts).toEqual(artifact.egress.allow);
  }
  if (artifact.target === 'k8s') {
    const egress = (artifact.config as { networkPolicy: { spec: { egress: unknown[] } } }).networkPolicy.spec.egress;
    expect(egress.length > 0).toBe(hasNet);
  }
  if (artifact.target === 'egress' && artifact.egressTarget === 'squid') {
    const config = artifact.config as string;
    expect(config.trimEnd().endsWith('http_access deny all')).toBe(true);
    const allows = config.split('\n').filter((line) => line.startsWith('http_access allow'));
    expect(allows.length).toBe(policy.net.length);
  }
  if (artifact.target === 'egress' && artifact.egressTarget === 'nftables') {
    const resolverLine = /daddr (1\.1\.1\.1|2606:4700:4700::1111) (udp|tcp) dport 53 accept$/;
    const accepts = (artifact.config as string).split('\n').filter((line) => / dport \d+ accept$/.test(line) && !resolverLine.test(line));
    expect(accepts.length).toBe(policy.net.filter((g) => g.host === '*' || parseHost(g.host)?.kind !== 'domain').length);
  }
}

describe('property: declared ⇔ granted, for random manifests', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: 40 manifests × every target', (seed) => {
    const r = rng(seed * 7919);
    for (let i = 0; i < 40; i++) {
      const manifest = randomManifest(r);
      // The whole server and, as the runtime compiles it, the first tool alone.
      for (const options of VARIANTS.flatMap((variant) => [variant, { ...variant, tool: 'tool0' }])) {
        const result = compileManifest(manifest, options);
        if (!result.ok) throw new Error(`seed ${seed} #${i}: ${result.error.code} at ${result.error.path}: ${JSON.stringify(manifest)}`);
        checkDeclaredPresent(result.artifact, result.policy);
        checkNothingUndeclared(result.artifact, result.policy);
        // Every server-level capability reaches the tool and is labelled as coming from the server.
        for (const text of result.policy.serverCapabilities) expect(result.policy.declared).toContain(text);
        expect(result.artifact.serverCapabilities).toEqual(result.policy.serverCapabilities);
      }
    }
  });

  it('a manifest that declares nothing gets no network, no writable path, no environment on any target', () => {
    for (const options of VARIANTS) {
      const result = compileManifest({ name: 'empty', version: '1', tools: [{ name: 't', capabilities: [] }] }, options);
      if (!result.ok) throw new Error(result.error.code);
      expect(result.artifact.egress.allow).toEqual([]);
      expect(result.artifact.envInjections).toEqual([]);
      expect(mounts(result.artifact).filter((mount) => mount.writable)).toEqual([]);
      expect(result.artifact.unenforceable).toEqual([]);
    }
  });
});

describe('the property fails on a mutated artifact (so it can fail at all)', () => {
  const manifest = {
    name: 'mutated',
    version: '1.0.0',
    tools: [{ name: 't', capabilities: ['fs:read:/data/**', 'fs:read,write:/workspace/**'] }],
  };
  function compiled(target: 'bwrap' | 'docker') {
    const result = compileManifest(manifest, { target });
    if (!result.ok) throw new Error(result.error.code);
    return result;
  }
  /** The artifact with `extra` inserted just before `anchor` (bwrap: before the final --remount-ro; docker: before --workdir). */
  function mutated(target: 'bwrap' | 'docker', extra: string[]) {
    const { artifact, policy } = compiled(target);
    const argv = [...(artifact.argv ?? [])];
    const anchor = argv.indexOf(target === 'bwrap' ? '--remount-ro' : '--workdir');
    expect(anchor).toBeGreaterThan(1);
    argv.splice(anchor, 0, ...extra);
    return { artifact: { ...artifact, argv }, policy };
  }

  it('the artifacts as compiled pass, and parse to exactly the declared and system mounts', () => {
    for (const target of ['bwrap', 'docker'] as const) {
      const { artifact, policy } = compiled(target);
      expect(() => checkNothingUndeclared(artifact, policy)).not.toThrow();
    }
    const bwrap = mounts(compiled('bwrap').artifact);
    expect(bwrap.filter((m) => m.writable).map((m) => [m.option, m.source, m.target])).toEqual([['--bind', '/workspace', '/workspace']]);
    expect(bwrap.filter((m) => !m.writable).map((m) => m.source)).toEqual([...BWRAP_SYSTEM_RO, '/data']);
    expect(mounts(compiled('docker').artifact)).toEqual([
      { option: '--volume', source: '/data', target: '/data', writable: false },
      { option: '--volume', source: '/workspace', target: '/workspace', writable: true },
    ]);
  });

  it.each([
    ['a writable --bind-try', ['--bind-try', '/etc', '/etc'], /writable \/etc not declared \(--bind-try\)/],
    ['a --dev-bind', ['--dev-bind', '/dev', '/dev'], /writable \/dev not declared \(--dev-bind\)/],
    ['a --dev-bind-try of the host root', ['--dev-bind-try', '/', '/host'], /writable \/ not declared \(--dev-bind-try\)/],
    ['a --bind of an undeclared source onto a declared target', ['--bind', '/etc', '/workspace'], /writable \/etc not declared \(--bind\)/],
    ['a --bind of a declared source onto an undeclared target', ['--bind', '/workspace', '/etc'], /writable \/etc not declared \(--bind\)/],
    ['a --bind-fd', ['--bind-fd', '3', '/workspace/x'], /writable fd:3 not declared \(--bind-fd\)/],
    ['a --ro-bind-fd', ['--ro-bind-fd', '3', '/data/x'], /read-only fd:3 not declared \(--ro-bind-fd\)/],
    ['a --ro-bind of the host root', ['--ro-bind', '/', '/'], /read-only \/ not declared \(--ro-bind\)/],
    ['a --ro-bind-try of /home', ['--ro-bind-try', '/home', '/home'], /read-only \/home not declared \(--ro-bind-try\)/],
    [
      'an --overlay with a host upper directory',
      ['--overlay-src', '/data', '--overlay', '/srv/upper', '/srv/work', '/data'],
      /writable \/srv\/upper not declared \(--overlay\)/,
    ],
    [
      'a --tmp-overlay over an undeclared lower directory',
      ['--overlay-src', '/home', '--tmp-overlay', '/home'],
      /read-only \/home not declared \(--overlay-src\)/,
    ],
    [
      'a --ro-overlay over an undeclared lower directory',
      ['--overlay-src', '/home', '--ro-overlay', '/home'],
      /read-only \/home not declared \(--overlay-src\)/,
    ],
    ['an unknown option', ['--frobnicate'], /unknown bwrap option --frobnicate/],
    ['--args (options from a file descriptor)', ['--args', '3'], /forbidden bwrap option --args/],
    ['--cap-add', ['--cap-add', 'ALL'], /forbidden bwrap option --cap-add/],
    ['--userns (joins an outside namespace)', ['--userns', '3'], /forbidden bwrap option --userns/],
    ['--share-net', ['--share-net'], /forbidden bwrap option --share-net/],
  ])('bwrap: %s fails "grants nothing undeclared"', (_label, extra, message) => {
    const { artifact, policy } = mutated('bwrap', extra);
    expect(() => checkNothingUndeclared(artifact, policy)).toThrow(message);
  });

  it('bwrap: an argv whose final "--" is gone fails', () => {
    const { artifact, policy } = compiled('bwrap');
    expect(() => checkNothingUndeclared({ ...artifact, argv: (artifact.argv ?? []).slice(0, -1) }, policy)).toThrow(/no final "--"/);
  });

  it.each([
    ['-v without a mode (read-write by default)', ['--volume', '/etc:/etc'], /writable \/etc not declared \(--volume\)/],
    ['-v with only an SELinux label', ['-v', '/etc:/etc:z'], /writable \/etc not declared \(--volume\)/],
    ['--volume=…:rw', ['--volume=/home:/home:rw'], /writable \/home not declared \(--volume\)/],
    ['-v …:ro of an undeclared path', ['-v', '/etc:/etc:ro'], /read-only \/etc not declared \(--volume\)/],
    ['a named volume', ['-v', 'cache:/workspace/cache'], /writable volume:cache not declared \(--volume\)/],
    ['--mount type=bind', ['--mount', 'type=bind,source=/etc,target=/etc'], /writable \/etc not declared \(--mount\)/],
    [
      '--mount type=bind,readonly=false',
      ['--mount', 'type=bind,src=/etc,dst=/etc,readonly=false'],
      /writable \/etc not declared \(--mount\)/,
    ],
    [
      '--mount=… readonly of the host root',
      ['--mount=type=bind,source=/,destination=/host,readonly'],
      /read-only \/ not declared \(--mount\)/,
    ],
    [
      '--mount without a type (a volume)',
      ['--mount', 'src=shared,dst=/workspace/shared'],
      /writable volume:shared not declared \(--mount\)/,
    ],
    [
      '--mount type=volume,ro',
      ['--mount', 'type=volume,source=shared,target=/data/shared,ro'],
      /read-only volume:shared not declared \(--mount\)/,
    ],
    ['--mount type=npipe', ['--mount', 'type=npipe,source=x,target=/x'], /unsupported --mount type npipe/],
    ['--volumes-from', ['--volumes-from', 'other'], /writable volumes-from:other not declared \(--volumes-from\)/],
    ['--device', ['--device', '/dev/sda'], /writable device:\/dev\/sda not declared \(--device\)/],
    ['--privileged', ['--privileged'], /unknown docker run option --privileged/],
    ['--publish', ['--publish', '80:80'], /unknown docker run option --publish/],
  ])('docker: %s fails "grants nothing undeclared"', (_label, extra, message) => {
    const { artifact, policy } = mutated('docker', extra);
    expect(() => checkNothingUndeclared(artifact, policy)).toThrow(message);
  });

  it.each([
    ['a read-only --mount of a declared read path', ['--mount', 'type=bind,source=/data/sub,target=/data/sub,readonly']],
    ['a -v of the declared writable path', ['-v', '/workspace/x:/workspace/x']],
  ])('docker: %s still passes', (_label, extra) => {
    const { artifact, policy } = mutated('docker', extra);
    expect(() => checkNothingUndeclared(artifact, policy)).not.toThrow();
  });
});
