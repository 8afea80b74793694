// The system calls Node lacks (dist/syscalls.node, built from src/host/syscalls.c at install):
// nanosecond utimensat and futimens, mknod without a child process, renameat2 with its atomic flags,
// fallocate.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { host } from './errors.js';

interface Native {
  utimensat(path: string, atimeNs: bigint | null | 'now', mtimeNs: bigint | null | 'now'): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  renameat2(from: string, to: string, flags: number): void;
  fallocate(fd: number, mode: number, offset: bigint, len: bigint): void;
  futimens(fd: number, atimeNs: bigint | null | 'now', mtimeNs: bigint | null | 'now'): void;
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

/**
 * fallocate(2) on an open file, FALLOC_FL_* `mode` passed as is; `offset` and `len` are bigints, so
 * every 64-bit offset is exact. Errors as the host gives them (EOPNOTSUPP where its filesystem lacks a mode).
 */
export function fallocateFd(fd: number, mode: number, offset: bigint, len: bigint): void {
  host(() => load().fallocate(fd, mode, offset, len));
}

/** futimens(3): nanosecond times of an open file (one with no name left, say); undefined leaves a time as is. */
export function futimensNs(fd: number, atimeNs: bigint | 'now' | undefined, mtimeNs: bigint | 'now' | undefined): void {
  host(() => load().futimens(fd, atimeNs ?? null, mtimeNs ?? null));
}
