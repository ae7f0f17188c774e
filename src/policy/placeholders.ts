/**
 * Credential placeholders in one outgoing request: the decision both egress paths make (the
 * runner's local proxy and the container's outbound handler), so they cannot drift apart.
 * docs/sandbox.md "Credential placeholders". Numbered precedence, first match wins:
 * 1. a placeholder anywhere in the request (request target, any header, decoded Basic
 *    credentials, body) whose credential is not bound to the destination → refuse, nothing sent;
 * 2. a placeholder in its credential's header (default `Authorization`, or the header the
 *    binding names; Basic credentials decoded, RFC 7617) → replaced by the real value;
 * 3. anything else — placeholders in the URL, the body or another header — is sent unchanged.
 *    The value is never written there: an endpoint that echoes the URL, stores the body (a
 *    comment, a chat message) or reflects other headers can only hand back the worthless
 *    placeholder.
 * Pure (no Node or Workers imports): the runner bundles it, the Worker imports it.
 */
import { encodeBase64, utf8 } from '../lib';
import { hostText, parseHost } from './host';

/** The header a credential goes into when its binding names none. */
export const DEFAULT_CREDENTIAL_HEADER = 'authorization';

export interface PlaceholderBinding {
  placeholder: string;
  /** Hosts the real value may be sent to. */
  hosts: readonly string[];
  /** Header (any case) the real value may be placed in; default DEFAULT_CREDENTIAL_HEADER. */
  header?: string | undefined;
}

/** Header name and value pairs as sent, duplicates kept. */
export type HeaderList = Array<[string, string]>;

export interface OutgoingRequest {
  /** Destination host, as the enforcing side checked it (never the request's Host header). */
  host: string;
  /** Path and query (or the whole URL). */
  target: string;
  headers: HeaderList;
  /** The body as text (latin1 or UTF-8: placeholders are ASCII). */
  body: string;
}

export type PlaceholderPlan<B extends PlaceholderBinding> = { ok: false; reason: 'placeholder-foreign-host' } | { ok: true; swap: B[] };

/** Canonical host text, so `API.example.com.` and `api.example.com` are one host. */
export function canonicalHost(raw: string): string {
  const parsed = parseHost(raw);
  return parsed === null ? raw.toLowerCase() : hostText(parsed);
}

export function isBoundTo(binding: PlaceholderBinding, host: string): boolean {
  const wanted = canonicalHost(host);
  return binding.hosts.some((bound) => canonicalHost(bound) === wanted);
}

function headerOf(binding: PlaceholderBinding): string {
  return (binding.header ?? DEFAULT_CREDENTIAL_HEADER).toLowerCase();
}

/** The user-pass of an RFC 7617 `Basic` value (UTF-8), or null for any other value. */
export function decodeBasic(value: string): string | null {
  const match = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!match?.[1]) return null;
  // Lenient on purpose (atob, not the strict src/lib codec): a placeholder must be found in
  // whatever spelling the upstream server would still decode.
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(match[1]), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

function encodeBasic(userPass: string): string {
  return `Basic ${encodeBase64(utf8(userPass))}`;
}

/** Rules 1–3 above for one request: refuse, or the bindings to swap in their own header. */
export function planPlaceholders<B extends PlaceholderBinding>(request: OutgoingRequest, bindings: readonly B[]): PlaceholderPlan<B> {
  const texts = [request.target, request.body];
  for (const [name, value] of request.headers) {
    texts.push(name, value);
    const basic = decodeBasic(value);
    if (basic !== null) texts.push(basic);
  }
  const swap: B[] = [];
  for (const binding of bindings) {
    if (!texts.some((text) => text.includes(binding.placeholder))) continue;
    // 1. Carried anywhere towards a host it is not bound to → refuse the whole request.
    if (!isBoundTo(binding, request.host)) return { ok: false, reason: 'placeholder-foreign-host' };
    // 2. In its own header → swap; 3. anywhere else → left as the placeholder.
    const own = headerOf(binding);
    const inOwnHeader = request.headers.some(
      ([name, value]) =>
        name.toLowerCase() === own && (value.includes(binding.placeholder) || (decodeBasic(value) ?? '').includes(binding.placeholder)),
    );
    if (inOwnHeader) swap.push(binding);
  }
  return { ok: true, swap };
}

/** The headers with each swapped binding's placeholder replaced by its value, in that binding's header only. */
export function swapPlaceholderHeaders(headers: HeaderList, swaps: ReadonlyArray<PlaceholderBinding & { value: string }>): HeaderList {
  return headers.map(([name, value]) => {
    const mine = swaps.filter((swap) => headerOf(swap) === name.toLowerCase());
    if (mine.length === 0) return [name, value];
    const replace = (text: string) => mine.reduce((out, swap) => out.split(swap.placeholder).join(swap.value), text);
    const basic = decodeBasic(value);
    if (basic !== null && replace(basic) !== basic) return [name, encodeBasic(replace(basic))];
    return [name, replace(value)];
  });
}
