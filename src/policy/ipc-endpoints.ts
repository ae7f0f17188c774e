/**
 * Named IPC endpoints (capgate's `ipc:connect:x11` and friends). Each name means fixed
 * socket paths on a Linux host; a name whose socket is not a fixed path is kept as a
 * declaration but never granted (every target lists it in `unenforceable`, with why).
 * Names are matched exactly: `X11`, `x11/../etc` or `x11:0` are not names.
 */
export interface NamedIpcEndpoint {
  /** What the sandbox gets on targets that mount host sockets (bwrap, docker); null = nothing. */
  path: string | null;
  /** true: a directory of sockets, mounted read-only (connect() needs no write on the mount). */
  directory: boolean;
  /** Environment names the endpoint needs, passed through from the operator's environment. */
  env: string[];
  /** Why a target that could mount sockets still does not grant it (path === null). */
  refused?: string;
  /** true: the name is only another spelling of one socket path; it is normalised to that path. */
  alias?: true;
}

export const NAMED_IPC_ENDPOINTS: Readonly<Record<string, NamedIpcEndpoint>> = {
  // The X server's sockets live in /tmp/.X11-unix (X0, X1, …); DISPLAY says which one.
  // Read-only so that the sandbox cannot replace the host's X socket with its own listener.
  x11: { path: '/tmp/.X11-unix', directory: true, env: ['DISPLAY'] },
  // The system bus has one well-known socket on every systemd and non-systemd distribution.
  'dbus:system': { path: '/run/dbus/system_bus_socket', directory: false, env: [], alias: true },
  // The session bus is per user ($DBUS_SESSION_BUS_ADDRESS, often abstract): no fixed path.
  'dbus:session': {
    path: null,
    directory: false,
    env: [],
    refused:
      'the session bus address is per user ($DBUS_SESSION_BUS_ADDRESS) and may be an abstract socket, so no path can be mounted; declare the socket instead, e.g. ipc:connect:/run/user/1000/bus.',
  },
};

export const NAMED_IPC_NAMES = Object.keys(NAMED_IPC_ENDPOINTS);

export function namedIpc(name: string): NamedIpcEndpoint | undefined {
  return Object.hasOwn(NAMED_IPC_ENDPOINTS, name) ? NAMED_IPC_ENDPOINTS[name] : undefined;
}
