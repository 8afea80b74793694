// The system calls Node lacks (dist/syscalls.node, built from src/host/syscalls.c at install):
// nanosecond utimensat, mknod without a child process, renameat2 with its atomic flags, and an
// lstat that follows no symlink anywhere in its path.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { host } from './errors.js';

interface Native {
  utimensat(path: string, atimeNs: bigint | null | 'now', mtimeNs: bigint | null | 'now'): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  renameat2(from: string, to: string, flags: number): void;
  lstatNoSymlinks(path: string, out: Float64Array): number;
  openDirAt(dirfd: number, path: string): number;
  watchReadable(fd: number, callback: (events: number) => void): object;
  unwatch(watch: object): void;
}

export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

let native: Native | undefined;
function load(): Native {
  if (native) return native;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'dist', 'syscalls.node');
    if (existsSync(file)) return (native = createRequire(import.meta.url)(file) as Native);
  }
  throw new Error('dist/syscalls.node is missing: run npm ci (or node scripts/build-native.mjs)');
}

/** Set times with nanosecond precision, never following a symlink; undefined leaves a time as is. */
export function utimensNs(path: string, atimeNs: bigint | 'now' | undefined, mtimeNs: bigint | 'now' | undefined): void {
  host(() => load().utimensat(path, atimeNs ?? null, mtimeNs ?? null));
}

/** mknod(2): `mode` includes the file type bits. */
export function mknodRaw(path: string, mode: number, major: number, minor: number): void {
  host(() => load().mknod(path, mode, major, minor));
}

/** renameat2(2) with RENAME_* flags. */
export function renameat2(from: string, to: string, flags: number): void {
  host(() => load().renameat2(from, to, flags));
}

/** What lstatNoSymlinks found: the object's st_mode and st_rdev. */
export interface ModeAndRdev {
  mode: number;
  rdev: number;
}

const statOut = new Float64Array(2);

/**
 * lstat of `path` that follows no symlink in any of its components (openat2 RESOLVE_NO_SYMLINKS):
 * a directory swapped for a symlink since the caller saw it gives ELOOP, never what the symlink
 * points to; a symlink as the last component is reported as itself. Returns 0, filling `out`, or
 * the errno number (no exception: absence is the common answer of a lookup).
 */
export function lstatNoSymlinks(path: string, out: ModeAndRdev): number {
  const err = load().lstatNoSymlinks(path, statOut);
  if (err === 0) {
    out.mode = statOut[0]!;
    out.rdev = statOut[1]!;
  }
  return err;
}

/** `dirfd` meaning "the current directory" (an absolute `path` ignores it anyway). */
export const AT_FDCWD = -100;

/**
 * An O_PATH descriptor of the directory `path` (relative to `dirfd`, or absolute), reached without
 * following any symlink (openat2 RESOLVE_NO_SYMLINKS: ELOOP where one is on the way, ENOTDIR where
 * `path` is no directory). The caller closes it. `path` must be shorter than 4,095 bytes.
 */
export function openDirAt(dirfd: number, path: string): number {
  return load().openDirAt(dirfd, path);
}

/** An opaque watch made by watchReadable. */
export type NativeWatch = { readonly __brand: 'NativeWatch' };

/**
 * Call `callback` on the main thread whenever `fd` is readable (level-triggered: again at the next
 * turn while data is left), from Node's own event loop; `events` is negative (a libuv error) when
 * polling failed. The watch keeps the process alive until `unwatchNative`, which must be called
 * exactly once and before `fd` is closed.
 */
export function watchReadable(fd: number, callback: (events: number) => void): NativeWatch {
  return host(() => load().watchReadable(fd, callback)) as NativeWatch;
}

/** Stop a watch (once). */
export function unwatchNative(watch: NativeWatch): void {
  load().unwatch(watch);
}
