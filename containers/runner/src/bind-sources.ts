/**
 * Bind sources under the workspace root (per-agent workspaces and private paths) are opened by
 * the runner, which is root, and handed to bwrap as file descriptors (`--bind-fd` /
 * `--ro-bind-fd`). A tool controls the contents of its persistent workspace: it can plant
 * `ln -sfn /etc /workspace/esc` for a later call that binds `/workspace/esc`. A path handed to
 * bwrap would be resolved by the kernel, symlinks followed, at mount time; an fd is the inode
 * the runner checked, so nothing swapped in between check and mount can win.
 *
 * Node has no openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so the same semantics are built
 * component by component: each step opens ONE name relative to the previous step's fd through
 * `/proc/self/fd/<fd>/<name>` (the magic link jumps to the pinned inode, never re-walks a path)
 * with O_NOFOLLOW, so a symlink at any component is ELOOP. Missing directories are created with
 * mkdir on the same fd-relative path (mkdir never follows a final symlink) and re-owned with
 * fchown on their own fd, never chown through a path. Every refusal leaves the host untouched
 * except for directories created inside the agent's own directory.
 */
import { closeSync, constants, fchownSync, fstatSync, mkdirSync, openSync, readlinkSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { BwrapOption } from './bwrap-argv.ts';

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** The last component may be a file; O_NONBLOCK so a planted FIFO cannot hang the runner. */
const FINAL = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
/** bwrap sees the pinned fds from here on (0-2 are the call's stdio). */
export const FIRST_BIND_FD = 3;

export interface Owner {
  uid: number;
  gid: number;
}

export type PinRefusal = 'bind-source-unsafe';
export type PinnedBinds = { ok: true; options: BwrapOption[]; fds: number[] } | { ok: false; reason: PinRefusal };

export function isInsideRoot(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
}

/** Closes pinned fds (after the sandbox has started and mounted them, or on refusal). */
export function closeAll(fds: number[]): void {
  for (const fd of fds) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/**
 * Opens `parts` beneath `rootFd` one component at a time; `create` makes missing directories
 * (mode 0700, owned by `owner` when the runner is root). Returns the final fd or null, in which
 * case nothing stays open.
 */
function openBeneath(rootFd: number, parts: string[], owner: Owner | null): number | null {
  let current = rootFd;
  const opened: number[] = [];
  for (const [index, part] of parts.entries()) {
    if (part === '' || part === '.' || part === '..' || part.includes('/')) return fail(opened);
    const path = `/proc/self/fd/${current}/${part}`;
    const last = index === parts.length - 1;
    let next: number;
    try {
      next = openSync(path, last ? FINAL : DIRECTORY);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return fail(opened); // ELOOP: a symlink; ENOTDIR; anything else
      try {
        mkdirSync(path, { mode: 0o700 });
      } catch (mkdirError) {
        // Somebody else created the name meanwhile: open it like any existing one (O_NOFOLLOW again).
        if ((mkdirError as NodeJS.ErrnoException).code !== 'EEXIST') return fail(opened);
      }
      try {
        next = openSync(path, DIRECTORY);
      } catch {
        return fail(opened);
      }
      if (owner) fchownSync(next, owner.uid, owner.gid);
    }
    opened.push(next);
    current = next;
  }
  const final = opened.pop();
  closeAll(opened);
  return final ?? null;
}

function fail(opened: number[]): null {
  closeAll(opened);
  return null;
}

/**
 * For each `--bind` / `--ro-bind` whose source is inside the workspace root (checkBwrapPrefix has
 * already refused writable binds outside it), first refusal wins:
 *   1. a component is a symlink, a non-directory before the last, `.`/`..`, or cannot be opened
 *      or created → refuse;
 *   2. the last component is neither a directory nor a regular file (FIFO, socket, device), or a
 *      writable bind of a regular file with more than one hard link → refuse;
 *   3. the opened inode's path (readlink of /proc/self/fd) is not the requested path (it was
 *      moved while being opened) → refuse;
 *   4. otherwise the bind becomes `--bind-fd` / `--ro-bind-fd` on that fd; a writable bind's
 *      source is given to the sandbox uid with fchown (the mount, not the owner, keeps a
 *      read-only bind read-only).
 * Sources outside the root (read-only host system directories) are left as they are.
 */
export function pinBindSources(options: BwrapOption[], workspaceRoot: string, owner: Owner | null): PinnedBinds {
  const root = realpathSync(workspaceRoot);
  const lexicalRoot = workspaceRoot.replace(/\/+$/, '') || '/';
  const fds: number[] = [];
  const out: BwrapOption[] = [];
  const refuse = (): PinnedBinds => {
    closeAll(fds);
    return { ok: false, reason: 'bind-source-unsafe' };
  };
  const rootFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const option of options) {
      const [source = '', destination = ''] = option.args;
      const writable = option.name === '--bind';
      if ((!writable && option.name !== '--ro-bind') || !isInsideRoot(lexicalRoot, source)) {
        out.push(option);
        continue;
      }
      const parts = relative(lexicalRoot, source).split(sep);
      const fd = openBeneath(rootFd, parts, owner);
      if (fd === null) return refuse(); // 1
      fds.push(fd);
      const stat = fstatSync(fd);
      if (!stat.isDirectory() && !stat.isFile()) return refuse(); // 2
      if (writable && stat.isFile() && stat.nlink > 1) return refuse(); // 2
      if (readlinkSync(`/proc/self/fd/${fd}`) !== join(root, ...parts)) return refuse(); // 3
      if (writable && owner) fchownSync(fd, owner.uid, owner.gid); // 4
      out.push({ name: writable ? '--bind-fd' : '--ro-bind-fd', args: [String(FIRST_BIND_FD + fds.length - 1), destination] });
    }
    return { ok: true, options: out, fds };
  } catch {
    return refuse(); // fchown or fstat failed: fail closed
  } finally {
    closeSync(rootFd);
  }
}
