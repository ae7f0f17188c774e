/**
 * The capability grammar (docs/policy.md "Grammar"), capgate's and ours:
 *
 *   capability := kind ":" actions ":" scope [ "?" refinement *( "&" refinement ) ]
 *               | "clock:" ( "system" | "tzdata" )                  (capgate's short form)
 *               | "assert:" id [ ":" ( '"' description '"' | description ) ]
 *   actions    := action *( "," action )
 *
 * Fail closed: anything not described here is an error with a stable code, never a
 * pass-through (capgate passes unknown refinements through; we refuse them).
 */
import { parseAssert } from './assertions';
import type { CapabilityErrorCode } from './errors';
import { hostText, parseHost } from './host';
import { NAMED_IPC_NAMES, namedIpc } from './ipc-endpoints';

export type FsAction = 'read' | 'write' | 'create' | 'delete';
export type EnvAction = 'read' | 'inject';

export type Capability =
  | { kind: 'fs'; actions: FsAction[]; path: string; tree: boolean }
  | { kind: 'net'; host: string; port: number }
  | { kind: 'exec'; binary: string; nestedSandbox: boolean }
  | { kind: 'env'; actions: EnvAction[]; name: string }
  /** endpoint: an absolute socket path, or a name of NAMED_IPC_ENDPOINTS (x11, dbus:system, …). */
  | { kind: 'ipc'; endpoint: string }
  | { kind: 'clock'; scope: 'system' | 'tzdata' }
  | { kind: 'assert'; id: string; description?: string };

/** detail: a sentence more specific than the code's REASONS entry, when the parser knows one. */
export type CapabilityParse = { ok: true; capability: Capability } | { ok: false; code: CapabilityErrorCode; detail?: string };

export const MAX_CAPABILITY_LENGTH = 512;
/** `net:connect:host` without a port means HTTPS: the sandbox's only way out is HTTPS. */
export const DEFAULT_NET_PORT = 443;

export interface CapabilityOptions {
  /**
   * Operator configuration only (TOOL_OPERATOR_ALLOW), never a manifest: the private
   * destinations a `net:connect` may name, each matched exactly (canonical host and port).
   * Without a match a private host stays CAP_NET_PRIVATE.
   */
  privateAllowed?: ReadonlyArray<{ host: string; port: number }>;
}

const ACTIONS: Record<string, readonly string[]> = {
  fs: ['read', 'write', 'create', 'delete'],
  net: ['connect'],
  exec: ['spawn'],
  env: ['read', 'inject'],
  ipc: ['connect'],
  clock: ['read'],
};

/** Refinements each kind accepts, with their value validators. */
const REFINEMENTS: Record<string, Record<string, (value: string) => boolean>> = {
  // capgate also writes 1 for true; its other values silently mean false, which we refuse.
  exec: { nestedSandbox: (value) => ['true', 'false', '1', '0'].includes(value) },
};

const fail = (code: CapabilityErrorCode, detail?: string): CapabilityParse =>
  detail === undefined ? { ok: false, code } : { ok: false, code, detail };

const PATH_SEGMENT = /^[A-Za-z0-9._@+=,~-]+$/;

type PathCheck = { ok: true; path: string; tree: boolean } | { ok: false; code: CapabilityErrorCode };

function checkPath(scope: string, allowTree: boolean, onBadShape: CapabilityErrorCode): PathCheck {
  if (!scope.startsWith('/')) return { ok: false, code: allowTree ? 'CAP_FS_RELATIVE' : onBadShape };
  const segments = scope.slice(1).split('/');
  const tree = allowTree && segments[segments.length - 1] === '**';
  const named = tree ? segments.slice(0, -1) : segments;
  if (named.length === 0 || (named.length === 1 && named[0] === ''))
    return { ok: false, code: allowTree ? 'CAP_FS_TOO_BROAD' : onBadShape };
  for (const segment of named) {
    if (segment === '.' || segment === '..') return { ok: false, code: allowTree ? 'CAP_FS_TRAVERSAL' : onBadShape };
    if (segment.includes('*')) return { ok: false, code: allowTree ? 'CAP_FS_GLOB' : onBadShape };
    if (!PATH_SEGMENT.test(segment)) return { ok: false, code: onBadShape };
  }
  return { ok: true, path: `/${named.join('/')}`, tree };
}

function parseNetScope(scope: string, options: CapabilityOptions): CapabilityParse {
  let hostPart: string;
  let portPart: string | undefined;
  if (scope.startsWith('[')) {
    const close = scope.indexOf(']');
    if (close < 0) return fail('CAP_NET_HOST');
    hostPart = scope.slice(0, close + 1);
    const rest = scope.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return fail('CAP_NET_HOST');
    portPart = rest === '' ? undefined : rest.slice(1);
  } else {
    const parts = scope.split(':');
    if (parts.length > 2) return fail('CAP_NET_HOST');
    hostPart = parts[0] ?? '';
    portPart = parts[1];
  }
  // Host first: `https://x` must read as a bad host, not as a bad port.
  const host = hostPart === '*' ? null : parseHost(hostPart);
  if (hostPart !== '*' && host === null) return fail('CAP_NET_HOST');
  let port = DEFAULT_NET_PORT;
  if (portPart !== undefined) {
    if (!/^[1-9][0-9]{0,4}$/.test(portPart) || Number(portPart) > 65535) return fail('CAP_NET_PORT');
    port = Number(portPart);
  }
  // A private destination only where an operator allowance names exactly this host and port.
  if (host?.private) {
    const name = hostText(host);
    const allowed = (options.privateAllowed ?? []).some((rule) => {
      const ruleHost = parseHost(rule.host);
      return ruleHost !== null && hostText(ruleHost) === name && rule.port === port;
    });
    if (!allowed) return fail('CAP_NET_PRIVATE');
  }
  return { ok: true, capability: { kind: 'net', host: host === null ? '*' : hostText(host), port } };
}

function parseRefinements(
  kind: string,
  query: string,
): { ok: true; values: Map<string, string> } | { ok: false; code: CapabilityErrorCode; detail?: string } {
  const values = new Map<string, string>();
  const allowed = REFINEMENTS[kind] ?? {};
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { ok: false, code: 'CAP_MALFORMED' };
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const validate = Object.hasOwn(allowed, key) ? allowed[key] : undefined;
    if (!validate) {
      if (key === 'nestedSandbox')
        return {
          ok: false,
          code: 'CAP_UNKNOWN_REFINEMENT',
          detail: `nestedSandbox refines exec:spawn only; on ${kind} it would grant nothing anyone reviewed.`,
        };
      return { ok: false, code: 'CAP_UNKNOWN_REFINEMENT' };
    }
    if (values.has(key)) return { ok: false, code: 'CAP_REFINEMENT_DUPLICATE' };
    if (!validate(value)) return { ok: false, code: 'CAP_REFINEMENT_VALUE' };
    values.set(key, value);
  }
  return { ok: true, values };
}

function parseClockScope(scope: string): CapabilityParse {
  if (scope !== 'system' && scope !== 'tzdata') return fail('CAP_CLOCK_SCOPE');
  return { ok: true, capability: { kind: 'clock', scope } };
}

/**
 * ipc scope: an absolute socket path, capgate's `unix:/path` (the same path), or a named
 * endpoint matched exactly. Anything with a `/` that is not a clean absolute path is a
 * bad path, so a name cannot smuggle one (`x11/../../etc`).
 */
function parseIpcScope(scope: string): CapabilityParse {
  const unix = scope.startsWith('unix:') ? scope.slice('unix:'.length) : null;
  if (unix !== null || scope.includes('/')) {
    const path = checkPath(unix ?? scope, false, 'CAP_IPC_PATH');
    if (!path.ok) return fail(path.code);
    return { ok: true, capability: { kind: 'ipc', endpoint: path.path } };
  }
  const named = namedIpc(scope);
  // dbus:system is its socket path in another spelling: one grant, one canonical text.
  if (named?.alias && named.path !== null) return { ok: true, capability: { kind: 'ipc', endpoint: named.path } };
  if (named) return { ok: true, capability: { kind: 'ipc', endpoint: scope } };
  return fail(
    'CAP_IPC_ENDPOINT',
    `the IPC endpoint is not an absolute socket path, unix:/path, or a named endpoint this compiler knows (${NAMED_IPC_NAMES.join(', ')}); names are matched exactly.`,
  );
}

export function parseCapability(text: string, options: CapabilityOptions = {}): CapabilityParse {
  if (text.length === 0) return fail('CAP_EMPTY');
  if (text.length > MAX_CAPABILITY_LENGTH) return fail('CAP_TOO_LONG');
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(text)) return fail('CAP_CONTROL_CHAR');
  if (/[^\u0020-\u007e]/.test(text)) return fail('CAP_NON_ASCII'); // IDN hosts are written in punycode
  const kindEnd = text.indexOf(':');
  if (kindEnd < 0) return fail(Object.hasOwn(ACTIONS, text) || text === 'assert' ? 'CAP_MALFORMED' : 'CAP_UNKNOWN_KIND');
  const kind = text.slice(0, kindEnd);
  if (kind === 'assert') return parseAssert(text.slice(kindEnd + 1));
  const allowedActions = Object.hasOwn(ACTIONS, kind) ? ACTIONS[kind] : undefined;
  if (!allowedActions) return fail('CAP_UNKNOWN_KIND');
  if (text.includes(' ')) return fail('CAP_MALFORMED');

  const queryStart = text.indexOf('?');
  const body = queryStart < 0 ? text.slice(kindEnd + 1) : text.slice(kindEnd + 1, queryStart);
  let refinements = new Map<string, string>();
  if (queryStart >= 0) {
    const parsed = parseRefinements(kind, text.slice(queryStart + 1));
    if (!parsed.ok) return fail(parsed.code, parsed.detail);
    refinements = parsed.values;
  }

  // capgate's clock:system / clock:tzdata: the only kind whose action may be left out.
  const actionsEnd = kind === 'clock' && !body.includes(':') ? -1 : body.indexOf(':');
  if (kind === 'clock' && actionsEnd < 0) return parseClockScope(body);
  if (actionsEnd < 0) return fail('CAP_MALFORMED');
  const actions = body.slice(0, actionsEnd).split(',');
  const scope = body.slice(actionsEnd + 1);
  if (scope === '' || actions.some((action) => action === '')) return fail('CAP_MALFORMED');
  if (actions.some((action) => !allowedActions.includes(action))) return fail('CAP_UNKNOWN_ACTION');
  if (new Set(actions).size !== actions.length) return fail('CAP_ACTION_DUPLICATE');

  switch (kind) {
    case 'fs': {
      const path = checkPath(scope, true, 'CAP_FS_PATH');
      if (!path.ok) return fail(path.code);
      return { ok: true, capability: { kind: 'fs', actions: actions as FsAction[], path: path.path, tree: path.tree } };
    }
    case 'net':
      return parseNetScope(scope, options);
    case 'exec':
      if (scope.includes('/')) return fail('CAP_EXEC_PATH');
      if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(scope)) return fail('CAP_EXEC_NAME');
      return {
        ok: true,
        capability: { kind: 'exec', binary: scope, nestedSandbox: ['true', '1'].includes(refinements.get('nestedSandbox') ?? '') },
      };
    case 'env':
      if (!/^[A-Z_][A-Z0-9_]{0,127}$/.test(scope)) return fail('CAP_ENV_NAME');
      return { ok: true, capability: { kind: 'env', actions: actions as EnvAction[], name: scope } };
    case 'ipc':
      return parseIpcScope(scope);
    case 'clock':
      return parseClockScope(scope);
    default:
      return fail('CAP_UNKNOWN_KIND');
  }
}

/** Canonical text of a parsed capability (what outputs and `unenforceable` quote). */
export function capabilityText(capability: Capability): string {
  switch (capability.kind) {
    case 'fs':
      return `fs:${capability.actions.join(',')}:${capability.path}${capability.tree ? '/**' : ''}`;
    case 'net': {
      const host = capability.host.includes(':') ? `[${capability.host}]` : capability.host;
      return `net:connect:${host}:${capability.port}`;
    }
    case 'exec':
      return `exec:spawn:${capability.binary}${capability.nestedSandbox ? '?nestedSandbox=true' : ''}`;
    case 'env':
      return `env:${capability.actions.join(',')}:${capability.name}`;
    case 'ipc':
      return `ipc:connect:${capability.endpoint}`;
    case 'clock':
      return `clock:read:${capability.scope}`;
    case 'assert':
      return `assert:${capability.id}${capability.description ? `:"${capability.description}"` : ''}`;
  }
}
