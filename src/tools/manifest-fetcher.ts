/**
 * Safe fetch of a tool manifest from a URL (for `POST /api/v1/agents/:id/tools {url}`).
 * The URL comes from a client, so it is an SSRF vector: every hop is validated before any
 * connection — https only, no userinfo, a host that is not and does not resolve to a
 * private/reserved address in any spelling — and redirects are followed by hand.
 *
 * `resolve` is injected: in Workers it is DNS-over-HTTPS (e.g. 1.1.1.1's JSON API) because
 * Workers have no resolver API; in Node it is dns.promises.lookup({all: true}). `fetch` is
 * injected too; it must connect only to the addresses `resolve` returned (Node: an undici
 * Agent whose `connect.lookup` returns them), otherwise a rebinding DNS answer between our
 * check and the connection could still reach a private address. Workers' own fetch refuses
 * private destinations on Cloudflare's network, which covers that gap there.
 */
import { isPrivateAddress, parseHost } from '../policy';

export const MANIFEST_FETCH_TIMEOUT_MS = 10_000;
export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const MAX_MANIFEST_REDIRECTS = 3;
const MAX_URL_LENGTH = 2048;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface ManifestFetchDeps {
  resolve(host: string): Promise<string[]>;
  fetch(url: string, init: RequestInit): Promise<Response>;
  timeoutMs?: number;
}

/** Why a URL was refused before connecting; the route maps every one to 400 URL_NOT_ALLOWED. */
export type UrlRefusal =
  'malformed-url' | 'scheme-not-https' | 'userinfo' | 'host-private' | 'resolves-private' | 'no-addresses' | 'too-many-redirects';

export type ManifestFetchFailure =
  'timeout' | 'network' | 'resolve-failed' | 'http-status' | 'redirect-without-location' | 'too-large' | 'not-json';

export type ManifestFetchResult =
  | { ok: true; manifest: unknown; url: string }
  | { ok: false; kind: 'url-not-allowed'; reason: UrlRefusal; hop: number }
  | { ok: false; kind: 'fetch-failed'; reason: ManifestFetchFailure; hop: number };

type HopCheck = { ok: true; url: URL } | { ok: false; reason: UrlRefusal } | { ok: false; failure: 'resolve-failed' };

/** Validates one URL, resolving its host. Nothing here opens a connection except `resolve`. */
async function checkUrl(raw: string | URL, deps: ManifestFetchDeps, base?: URL): Promise<HopCheck> {
  let url: URL;
  try {
    if (typeof raw === 'string' && raw.length > MAX_URL_LENGTH) return { ok: false, reason: 'malformed-url' };
    url = new URL(raw, base);
  } catch {
    return { ok: false, reason: 'malformed-url' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: 'scheme-not-https' };
  // `https://api.example@127.0.0.1/` reads as a trusted host to a human; never allow userinfo.
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'userinfo' };
  const host = parseHost(url.hostname);
  if (host === null) return { ok: false, reason: 'malformed-url' };
  if (host.private) return { ok: false, reason: 'host-private' };
  if (host.kind === 'domain') {
    let addresses: string[];
    try {
      addresses = await deps.resolve(host.name);
    } catch {
      return { ok: false, failure: 'resolve-failed' };
    }
    if (addresses.length === 0) return { ok: false, reason: 'no-addresses' };
    if (addresses.some(isPrivateAddress)) return { ok: false, reason: 'resolves-private' };
  }
  url.hash = '';
  return { ok: true, url };
}

/** Reads at most MAX_MANIFEST_BYTES, counting while streaming (Content-Length may lie). */
async function readCapped(response: Response): Promise<Uint8Array | null> {
  const declared = Number(response.headers.get('Content-Length') ?? '0');
  if (declared > MAX_MANIFEST_BYTES) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_MANIFEST_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export async function fetchManifestFromUrl(rawUrl: string, deps: ManifestFetchDeps): Promise<ManifestFetchResult> {
  const controller = new AbortController();
  const timeoutMs = deps.timeoutMs ?? MANIFEST_FETCH_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  const work = async (): Promise<ManifestFetchResult> => {
    let next: string | URL = rawUrl;
    let base: URL | undefined;
    for (let hop = 0; ; hop++) {
      if (hop > MAX_MANIFEST_REDIRECTS) return { ok: false, kind: 'url-not-allowed', reason: 'too-many-redirects', hop };
      const check = await checkUrl(next, deps, base);
      if (!check.ok)
        return 'reason' in check
          ? { ok: false, kind: 'url-not-allowed', reason: check.reason, hop }
          : { ok: false, kind: 'fetch-failed', reason: check.failure, hop };
      if (controller.signal.aborted) return { ok: false, kind: 'fetch-failed', reason: 'timeout', hop };
      let response: Response;
      try {
        response = await deps.fetch(check.url.href, {
          method: 'GET',
          redirect: 'manual',
          signal: controller.signal,
          headers: { Accept: 'application/json' },
        });
      } catch {
        return { ok: false, kind: 'fetch-failed', reason: controller.signal.aborted ? 'timeout' : 'network', hop };
      }
      if (REDIRECT_STATUSES.has(response.status)) {
        await response.body?.cancel();
        const location = response.headers.get('Location');
        if (!location) return { ok: false, kind: 'fetch-failed', reason: 'redirect-without-location', hop };
        next = location;
        base = check.url; // relative Location resolves against the hop that sent it (RFC 9110 §10.2.2)
        continue;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        return { ok: false, kind: 'fetch-failed', reason: 'http-status', hop };
      }
      let bytes: Uint8Array | null;
      try {
        bytes = await readCapped(response);
      } catch {
        return { ok: false, kind: 'fetch-failed', reason: controller.signal.aborted ? 'timeout' : 'network', hop };
      }
      if (bytes === null) return { ok: false, kind: 'fetch-failed', reason: 'too-large', hop };
      try {
        return {
          ok: true,
          manifest: JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)),
          url: check.url.href,
        };
      } catch {
        return { ok: false, kind: 'fetch-failed', reason: 'not-json', hop };
      }
    }
  };
  try {
    const outcome = await Promise.race([work(), deadline]);
    return outcome === 'timeout' ? { ok: false, kind: 'fetch-failed', reason: 'timeout', hop: -1 } : outcome;
  } finally {
    clearTimeout(timer);
  }
}
