// Host paths of any length. A path a system call would refuse (over PATH_MAX: a view deep enough,
// or an upperdir deep down) is reached by walking its directories in chunks through O_PATH
// descriptors (openat2 RESOLVE_NO_SYMLINKS, so no symlink inside a layer is ever followed, as with
// short paths), then named as `/proc/self/fd/N/<last name>`, which resolves relative to descriptor N.
// The descriptor lives as long as the one operation it serves. Short paths pass through untouched.
import { closeSync } from 'node:fs';
import { chunkPath, isDirect } from '../core/path-chunks.js';
import { AT_FDCWD, openDirAt } from './syscalls.js';

/** A path a system call accepts for a host path; `release()` closes what reaching it opened. */
export interface HeldPath {
  readonly path: string;
  release(): void;
}

const NOTHING = (): void => undefined;

/**
 * The short stand-in for `path`: the path itself when it fits, else `/proc/self/fd/N/<name>` with
 * N the parent directory's descriptor, which `release()` closes (call it once, after the operation;
 * the stand-in names the object in the directory N was opened on, even if it moves meanwhile).
 * Throws the walk's host error (ENOENT, ENOTDIR, EACCES; ELOOP where a symlink is on the way).
 */
export function holdPath(path: string): HeldPath {
  if (isDirect(path)) return { path, release: NOTHING };
  const { dirs, name } = chunkPath(path);
  let fd = openDirAt(AT_FDCWD, dirs[0]!);
  try {
    for (let i = 1; i < dirs.length; i++) {
      const next = openDirAt(fd, dirs[i]!);
      closeSync(fd);
      fd = next;
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  return {
    path: `/proc/self/fd/${fd}/${name}`,
    release: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** `fn(p)` with `p` a stand-in for host path `path` (itself when short); descriptors closed after. */
export function atPath<T>(path: string, fn: (p: string) => T): T {
  if (isDirect(path)) return fn(path);
  const held = holdPath(path);
  try {
    return fn(held.path);
  } finally {
    held.release();
  }
}

/** `fn(a, b)` for an operation on two host paths (rename, link), each made short where needed. */
export function atPaths<T>(a: string, b: string, fn: (a: string, b: string) => T): T {
  if (isDirect(a) && isDirect(b)) return fn(a, b);
  const ha = holdPath(a);
  try {
    const hb = holdPath(b);
    try {
      return fn(ha.path, hb.path);
    } finally {
      hb.release();
    }
  } finally {
    ha.release();
  }
}

/** Whether `path` is reached through a descriptor (then readlink of an fd cannot name it). */
export function isLong(path: string): boolean {
  return !isDirect(path);
}
