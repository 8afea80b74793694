// Attribute operations: getattr, chmod, chown, utimens, truncate, access, statfs.
// Any change to a lower object copies it up first; truncate copies only the bytes that stay.
// st_ino is the view's number (src/host/inode-origin.ts), not the host's; the host's is kept apart.
import { closeSync, constants, ftruncateSync, statfsSync, type BigIntStats } from 'node:fs';
import { accessSync, chmodSync, lchownSync, lstatSync, utimensNs } from '../../src/host/host-fs.js';
import { fsError } from '../../src/core/errors.js';
import { isMerged, isUpper, type ViewNode } from '../../src/core/resolve.js';
import type { ViewPath } from '../../src/core/paths.js';
import { host } from '../../src/host/errors.js';
import { reportedIno } from '../../src/host/inode-origin.js';
import { openVerified } from '../../src/host/safe-open.js';
import type { Union } from '../../src/host/union.js';

/**
 * What getattr answers; times in nanoseconds since the epoch. `ino` is the number the view reports
 * (kept across copy-up, unique in the view); `hostDev`/`hostIno` identify the highest copy on the
 * host (what a hard link shares, what changes when worldfs copies an object up).
 */
export interface Attr {
  mode: number; uid: number; gid: number; size: number; dev: number; nlink: number; ino: number;
  rdev: number; blksize: number; blocks: number; atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint;
  hostDev: number; hostIno: number;
  /** The layer of the highest copy (0: the top), when known: which layers the answer was drawn from. */
  layer?: number;
}

/** A time as utimens receives it: nanoseconds since the epoch, or UTIME_NOW / UTIME_OMIT. */
export type TimeSpec = bigint | 'now' | 'omit';

export interface StatFs {
  bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number;
  ffree: number; favail: number; fsid: number; flag: number; namemax: number;
}

/** "dev:ino": a host object's identity, as `Attr.hostDev`/`hostIno` and an open file's `hostKey` give it. */
export function hostKeyOf(dev: number | bigint, ino: number | bigint): string {
  return `${Number(dev)}:${Number(ino)}`;
}

/**
 * Stats as the view reports them, `ino` given (default: the host's). A merged directory has
 * nlink 1, as in overlayfs: its true count is unknown.
 */
export function toAttr(st: BigIntStats, merged = false, ino = Number(st.ino)): Attr {
  return {
    mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size), dev: Number(st.dev),
    nlink: merged ? 1 : Number(st.nlink), ino, rdev: Number(st.rdev), blksize: Number(st.blksize),
    blocks: Number(st.blocks), atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
    hostDev: Number(st.dev), hostIno: Number(st.ino),
  };
}

export function getattr(u: Union, path: ViewPath): Attr {
  return attrOf(u, u.existing(path));
}

/** getattr, or undefined when `path`'s directory has no such name (a missing directory is still ENOENT). */
export function lookupAttr(u: Union, path: ViewPath): Attr | undefined {
  const r = u.resolve(path);
  return r.kind === 'found' ? attrOf(u, r.node) : undefined;
}

function attrOf(u: Union, node: ViewNode): Attr {
  const st = host(() => lstatSync(u.hostPath(node), { bigint: true }));
  const a = toAttr(st, node.entry.kind === 'dir' && isMerged(node), reportedIno(u, node, st));
  a.layer = node.branches[0]!.layer;
  return a;
}

export function chmod(u: Union, path: ViewPath, mode: number): void {
  const node = u.existing(path);
  if (node.entry.kind === 'symlink') throw fsError('EOPNOTSUPP', 'chmod of a symlink');
  const upper = u.copyUp(node, undefined, true);
  host(() => chmodSync(upper, mode & 0o7777));
}

/** uid/gid of 0xffffffff (-1) leave that id unchanged. */
export function chown(u: Union, path: ViewPath, uid: number, gid: number): void {
  const node = u.existing(path);
  const keepUid = uid === 0xffffffff || uid === -1;
  const keepGid = gid === 0xffffffff || gid === -1;
  const st = keepUid || keepGid ? u.stat(node) : undefined; // an id left as it is: read it
  const newUid = keepUid ? st!.uid : uid;
  const newGid = keepGid ? st!.gid : gid;
  const upper = u.copyUp(node, undefined, true);
  host(() => lchownSync(upper, newUid, newGid));
}

export function utimens(u: Union, path: ViewPath, atime: TimeSpec, mtime: TimeSpec): void {
  const node = u.existing(path);
  const upper = u.copyUp(node, undefined, true);
  const pick = (t: TimeSpec) => (t === 'omit' ? undefined : t);
  utimensNs(upper, pick(atime), pick(mtime));
}

export function truncate(u: Union, path: ViewPath, size: number): void {
  const node = u.existing(path);
  if (node.entry.kind === 'dir') throw fsError('EISDIR', path);
  if (node.entry.kind !== 'file') throw fsError('EINVAL', path);
  if (size < 0) throw fsError('EINVAL', `size ${size}`);
  const upper = u.copyUp(node, size);
  const fd = openVerified(upper, constants.O_WRONLY);
  try {
    host(() => ftruncateSync(fd, size));
  } finally {
    closeSync(fd);
  }
}

/** access(2): F_OK is existence; W_OK on a lower object is judged as if it were copied up. */
export function access(u: Union, path: ViewPath, mode: number): void {
  const node = u.existing(path);
  if (mode === constants.F_OK) return;
  const ask = isUpper(node) ? mode : mode & ~constants.W_OK;
  if (ask !== 0) host(() => accessSync(u.hostPath(node), ask));
}

export function statfs(u: Union): StatFs {
  const s = host(() => statfsSync(u.writer.top));
  return {
    bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files,
    ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255,
  };
}
