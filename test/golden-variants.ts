/**
 * The compiler goldens' shared vocabulary: which reference manifests have goldens and which
 * artifact each golden file holds. Used by the goldens test, the CLI test and the HTTP compile
 * test, so the three check the same set.
 */
import type { CompileOptions } from '../src/policy';

/** capgate's reference manifests (our equivalents: tests/fixtures/policy/manifests and the time server of its table). */
export const CAPGATE_SERVERS = ['capgate-fetch', 'capgate-filesystem', 'capgate-github', 'capgate-puppeteer', 'capgate-time'];

/** Golden file name (without `.json`) → the compile options that produce it. */
export const GOLDEN_VARIANTS: [string, CompileOptions][] = [
  ['bwrap', { target: 'bwrap' }],
  ['docker', { target: 'docker' }],
  ['egress-squid', { target: 'egress', egressTarget: 'squid' }],
  ['egress-nftables', { target: 'egress', egressTarget: 'nftables' }],
  ['cloudflare', { target: 'cloudflare' }],
  ['k8s', { target: 'k8s' }],
];
