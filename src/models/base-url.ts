import { hostPortList, hostText, parseHost } from '../policy';
import { MODEL_BASE_URL_MAX_CHARS } from './settings';

export type BaseUrlRefusal = 'malformed-url' | 'scheme-not-allowed' | 'userinfo' | 'query-or-fragment' | 'host-private';

/**
 * `MODEL_PRIVATE_HOSTS` (`host:port,…`): the only private destinations a model base URL may
 * name, and the only ones that may use plain `http:` (a local Ollama or vLLM). A malformed
 * entry opens nothing. Hosts are normalised like every other host (parseHost).
 */
export function modelPrivateHosts(raw: string | undefined): Set<string> {
  return new Set(hostPortList(raw).map(({ host, port }) => `${host}:${port}`));
}

/**
 * Checks a model base URL. First match wins (docs/agents.md "Models" has the same numbers):
 * 1. not a URL, too long, or a host parseHost refuses → malformed-url;
 * 2. userinfo (`https://api.example@10.0.0.1/`) → userinfo;
 * 3. a query or fragment (a key smuggled into the URL would be logged by proxies) → query-or-fragment;
 * 4. `host:port` is listed in MODEL_PRIVATE_HOSTS → allowed, `http:` or `https:`;
 * 5. scheme other than `https:` → scheme-not-allowed;
 * 6. the host is a private or special-use address or name → host-private;
 * 7. otherwise allowed.
 * This runs when the setting is saved and again before every call (the var may have changed).
 * Redirects are never followed (the provider fetch uses `redirect: 'manual'`).
 */
export function checkModelBaseUrl(raw: string, privateHosts: Set<string>): { ok: true; url: URL } | { ok: false; reason: BaseUrlRefusal } {
  let url: URL;
  try {
    if (raw.length > MODEL_BASE_URL_MAX_CHARS) return { ok: false, reason: 'malformed-url' };
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'malformed-url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'scheme-not-allowed' };
  const host = parseHost(url.hostname);
  // 1
  if (host === null) return { ok: false, reason: 'malformed-url' };
  // 2
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'userinfo' };
  // 3
  if (url.search !== '' || url.hash !== '' || raw.includes('#') || raw.includes('?')) return { ok: false, reason: 'query-or-fragment' };
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  // 4
  if (privateHosts.has(`${hostText(host)}:${port}`)) return { ok: true, url };
  // 5
  if (url.protocol !== 'https:') return { ok: false, reason: 'scheme-not-allowed' };
  // 6
  if (host.private) return { ok: false, reason: 'host-private' };
  // 7
  return { ok: true, url };
}
