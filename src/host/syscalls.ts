// The system calls Node lacks (dist/syscalls.node, built from src/host/syscalls.c at install):
// nanosecond utimensat, mknod without a child process, renameat2 with its atomic flags, linkat of
// an O_TMPFILE file's descriptor, an lstat that follows no symlink anywhere in its path, and a
// fanotify watch of whole filesystems
// (src/host/fanotify.c, fanotify-events.c; used by layer-watch-fanotify.ts); on open files,
// futimens, fallocate and fgetxattr; FUSE passthrough's backing-file ioctls (src/host/fuse-passthrough.c).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { host } from './errors.js';

interface Native {
  utimensat(path: string, atimeNs: bigint | null | 'now', mtimeNs: bigint | null | 'now'): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  renameat2(from: string, to: string, flags: number): void;
  linkFd(fd: number, path: string): void;
  lstatNoSymlinks(path: string, out: Float64Array): number;
  openDirAt(dirfd: number, path: string): number;
  openNoSymlinks(path: string, flags: number, mode: number): number;
  watchReadable(fd: number, callback: (events: number) => void): object;
  unwatch(watch: object): void;
  fanotifyWatch(config: FanotifyConfig, onBatch: (records: FanotifyRecords) => void): { handle: object; errors: string[] };
  fanotifyClose(handle: object): void;
  fallocate(fd: number, mode: number, offset: bigint, len: bigint): void;
  futimens(fd: number, atimeNs: bigint | null | 'now', mtimeNs: bigint | null | 'now'): void;
  lseek(fd: number, offset: bigint, whence: number): bigint;
  fgetxattr(fd: number, name: string): Buffer | null;
  fuseBackingOpen(devFd: number, fd: number): number;
  fuseBackingClose(devFd: number, id: number): void;
  inotifyInit(): number;
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  inotifyRmWatch(fd: number, wd: number): void;
  readSome(fd: number, buf: Buffer, spinNs?: number): number;
  mapShared(fd: number, length: number): Buffer;
  unmapShared(buf: Buffer): void;
  dropSharedPages(buf: Buffer, end: number): void;
  readdirNoAtime(path: string): (string | number)[];
}

/** What fanotify.c watches (fanotify.h): the filesystems to mark, the layer roots to report, what to drop. */
export interface FanotifyConfig {
  /** Events caused by this process are dropped (the daemon's own writes). */
  readonly ownPid: number;
  /** Marked in order; `mounts`: [directory of the filesystem, mountpoint], the one events are named through first. */
  readonly filesystems: readonly { readonly mark: 'filesystem' | 'dir'; readonly path: string; readonly mounts: readonly (readonly [string, string])[] }[];
  /** An event in directory D is reported once per root containing D, relative to it, unless below one of its `skips`. */
  readonly roots: readonly { readonly layer: number; readonly root: string; readonly skips: readonly string[] }[];
  /** Host paths whose events are dropped (mountpoints: nothing below them is ours). */
  readonly never: readonly string[];
  /** A file created directly in this directory is reported as a fence (R_FENCE), in order. */
  readonly fence?: string;
}

/** Flat records, five slots each: flags (FAN_R_*), layer, dir (root-relative), name, key ("dev:ino" or undefined). */
export type FanotifyRecords = readonly (number | string | undefined)[];

/** Record flags (fanotify.h R_*). */
export const FAN_R = { NAME: 1, DIR: 2, GONE: 4, ADDED: 8, CONTENT: 16, FENCE: 32, DEGRADED: 64 } as const;

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

/**
 * Give the file open as `fd` (made with O_TMPFILE, not O_EXCL) its first name, `path` (absolute,
 * shorter than 4,095 bytes). Throws with the host's code.
 */
export function linkFd(fd: number, path: string): void {
  host(() => load().linkFd(fd, path));
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

/**
 * open(2) of `path` (absolute, shorter than 4,095 bytes) that follows no symlink anywhere in it
 * (openat2 RESOLVE_NO_SYMLINKS): ELOOP where one is on the way or at its end. Close-on-exec.
 * Throws with the host's code, as Node's openSync does.
 */
export function openNoSymlinks(path: string, flags: number, mode: number): number {
  return load().openNoSymlinks(path, flags, mode);
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

/**
 * Start a fanotify watch (root only: FAN_MARK_FILESYSTEM needs CAP_SYS_ADMIN): `onBatch` gets the
 * records of each read of the group, in order, on the main thread. `errors[i]`: the errno name
 * marking `config.filesystems[i]` failed with, or ''. Throws (FsError) when no group can be made.
 */
export function fanotifyWatch(config: FanotifyConfig, onBatch: (records: FanotifyRecords) => void): { handle: object; errors: string[] } {
  return host(() => load().fanotifyWatch(config, onBatch));
}

/** Stop a watch: its thread is joined, no batch is delivered afterwards. */
export function fanotifyClose(handle: object): void {
  load().fanotifyClose(handle);
}

/**
 * fallocate(2) on an open file, FALLOC_FL_* `mode` passed as is; `offset` and `len` are bigints, so
 * every 64-bit offset is exact. Errors as the host gives them (EOPNOTSUPP where its filesystem lacks a mode).
 */
export function fallocateFd(fd: number, mode: number, offset: bigint, len: bigint): void {
  host(() => load().fallocate(fd, mode, offset, len));
}

/** lseek(2) on `fd` (SEEK_DATA and SEEK_HOLE, which Node does not bind): the offset it lands on; ENXIO past the data or the end. */
export function lseekFd(fd: number, offset: bigint, whence: number): bigint {
  return host(() => load().lseek(fd, offset, whence));
}

/** futimens(3): nanosecond times of an open file (one with no name left, say); undefined leaves a time as is. */
export function futimensNs(fd: number, atimeNs: bigint | 'now' | undefined, mtimeNs: bigint | 'now' | undefined): void {
  host(() => load().futimens(fd, atimeNs ?? null, mtimeNs ?? null));
}

/** The value of extended attribute `name` of the file open as `fd`, or undefined where it is not set. */
export function fgetxattr(fd: number, name: string): Buffer | undefined {
  return host(() => load().fgetxattr(fd, name)) ?? undefined;
}

/**
 * FUSE_DEV_IOC_BACKING_OPEN on the /dev/fuse descriptor `devFd`: the regular file open as `fd`
 * becomes a backing file, named by the id returned (> 0), for opens answered FOPEN_PASSTHROUGH.
 * Throws an Error with `code` (not FsError: the caller decides to fall back): EPERM without
 * CAP_SYS_ADMIN in the initial user namespace, ELOOP when `fd`'s filesystem is stacked too deep.
 */
export function fuseBackingOpen(devFd: number, fd: number): number {
  return load().fuseBackingOpen(devFd, fd);
}

/** FUSE_DEV_IOC_BACKING_CLOSE: forget backing id `id` (files already opened with it keep it). */
export function fuseBackingClose(devFd: number, id: number): void {
  load().fuseBackingClose(devFd, id);
}

/**
 * read(2) into all of `buf`: the byte count, or minus the errno (os.constants.errno). Never throws
 * for the descriptor's errors: read loops over non-blocking descriptors end on EAGAIN every turn,
 * and an exception there (a stack capture) costs ten times the read. With `spinNs` > 0 an EAGAIN
 * is retried, without yielding the CPU, until something comes or that many nanoseconds have passed.
 */
export function readSome(fd: number, buf: Buffer, spinNs = 0): number {
  return (native ?? load()).readSome(fd, buf, spinNs);
}

/**
 * mmap(2) of the first `length` bytes of the open file `fd`, shared, read-write, as a Buffer
 * (unmapped when it is collected). What is stored into it is in the file at once for every other
 * process, a process killed right after included: no write(2) per record.
 */
export function mapShared(fd: number, length: number): Buffer {
  return host(() => load().mapShared(fd, length));
}

/** Unmap a Buffer of mapShared now (not when collected). It must not be touched afterwards. */
export function unmapShared(buf: Buffer): void {
  host(() => load().unmapShared(buf));
}

/**
 * Take the whole pages of [0, end) of a Buffer of mapShared out of this process's resident set
 * (madvise MADV_DONTNEED): their data stays in the file; touching them maps it back.
 */
export function dropSharedPages(buf: Buffer, end: number): void {
  host(() => load().dropSharedPages(buf, end));
}

/** d_type of a directory entry (<dirent.h>): DT_UNKNOWN where the filesystem does not say. */
export const DT = { UNKNOWN: 0, DIR: 4 } as const;

/**
 * The entries of directory `path` (no "." or ".."), flat: name, d_type, name, d_type, ...; read
 * through an O_NOATIME descriptor where the daemon may open one, so that its own walks of a layer
 * leave the directory's atime alone. Throws with the host's code.
 */
export function readdirNoAtime(path: string): (string | number)[] {
  return host(() => load().readdirNoAtime(path));
}

/** A non-blocking, close-on-exec inotify descriptor (src/host/inotify.c). */
export function inotifyInit(): number {
  return host(() => load().inotifyInit());
}

/** Watch `path` for the IN_* events of `mask` on inotify descriptor `fd`: the watch descriptor. Throws with the host's code. */
export function inotifyAddWatch(fd: number, path: string, mask: number): number {
  return load().inotifyAddWatch(fd, path, mask);
}

/** Remove watch `wd` (the kernel may have removed it already: EINVAL, ignored). */
export function inotifyRmWatch(fd: number, wd: number): void {
  try {
    load().inotifyRmWatch(fd, wd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  }
}
