/** Tools: manifest compilation over HTTP and the safe manifest fetcher for tool installation. */
export { policyRoutes } from './compile-route';
export { DEFAULT_DOH_ENDPOINT, dohResolver } from './doh-resolve';
export {
  fetchManifestFromUrl,
  MANIFEST_FETCH_TIMEOUT_MS,
  type ManifestFetchDeps,
  type ManifestFetchFailure,
  type ManifestFetchResult,
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_REDIRECTS,
  type UrlRefusal,
} from './manifest-fetcher';
