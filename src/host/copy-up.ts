// Copy-up: build a copy of a lower object in the work directory, then rename it into the top layer.
// Atomic (a kill -9 leaves the old view or the whole new object; leftovers in work/ are swept at
// mount), sparse (runs of zero blocks become holes), and faithful: mode, owner, timestamps, xattrs,
// symlink target. Follows overlayfs's ovl_copy_up_one (fs/overlayfs/copy_up.c).
import { closeSync, constants, fchownSync, fchmodSync, fsyncSync, ftruncateSync, type BigIntStats, type Stats } from 'node:fs';
import {
  chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readlinkSync, renameSync, symlinkSync, utimensNs,
} from './host-fs.js';
import { copySparse } from './copy-data.js';
import type { WhiteoutFormat } from '../core/whiteout/format.js';
import { kindOf } from './entry.js';
import { host, hostCode } from './errors.js';
import { mknod, splitDev } from './mknod.js';
import { openVerified } from './safe-open.js';
import { getXattr, listXattrs, setXattr } from './xattr.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = constants;

export interface CopyOptions {
  /** Copy at most this many bytes of file data (for truncate/O_TRUNC: no need to copy what goes). */
  readonly dataLimit?: number;
  /** fsync the copied data before it becomes visible (overlayfs does; `volatile` turns it off). */
  readonly fsync: boolean;
  /** Whether we may chown (root, or root in a user namespace). */
  readonly canChown: boolean;
  readonly format: WhiteoutFormat;
  /** Where a regular file's data really is (the lower data file of a metacopy file); default: src. */
  readonly dataFrom?: string;
  /** Copy only metadata: a sparse file of the same size marked metacopy (data stays below). */
  readonly metaOnly?: boolean;
  /**
   * A file in the work directory that already holds the data (at least `dataLimit` bytes of it),
   * copied ahead of time (copy-stager.ts): it becomes the copy, and only metadata is added.
   */
  readonly prefilled?: string;
}

/** Copy the object at host path `src` (lstat `st`) to the not-yet-existing host path `dst`. */
export function copyObject(src: string, st: Stats, dst: string, opts: CopyOptions): void {
  switch (kindOf(st)) {
    case 'file': return copyFile(src, st, dst, opts);
    case 'dir':
      host(() => mkdirSync(dst, { mode: 0o700 }));
      copyXattrs(src, dst, opts.format);
      setOwnerModeTimes(src, dst, st, opts);
      return;
    case 'symlink': {
      const target = host(() => readlinkSync(src));
      host(() => symlinkSync(target, dst));
      if (opts.canChown) chownQuiet(() => lchownSync(dst, st.uid, st.gid));
      copyTimes(src, dst);
      return;
    }
    case 'fifo':
      mknod(dst, 'p', 0o600);
      break;
    case 'chardev':
    case 'blockdev': {
      const t = kindOf(st) === 'chardev' ? 'c' : 'b';
      const { major, minor } = splitDev(st.rdev);
      mknod(dst, t, 0o600, major, minor);
      break;
    }
    case 'socket':
      // A socket node copies up as a node with no listener, as in overlayfs: a process bound to
      // the lower one stays bound to that inode (connect through the view is refused, as on ext4).
      mknod(dst, 's', 0o600);
      break;
  }
  copyXattrs(src, dst, opts.format);
  setOwnerModeTimes(src, dst, st, opts);
}

function copyFile(src: string, st: Stats, dst: string, opts: CopyOptions): void {
  const size = Math.min(st.size, opts.dataLimit ?? Infinity);
  if (opts.prefilled !== undefined) host(() => renameSync(opts.prefilled!, dst));
  const out = openVerified(dst, opts.prefilled !== undefined ? O_WRONLY : O_WRONLY | O_CREAT | O_EXCL, 0o600);
  try {
    if (size > 0 && !opts.metaOnly && opts.prefilled === undefined) {
      const inp = openVerified(opts.dataFrom ?? src, O_RDONLY);
      try {
        copySparse(inp, out, size);
      } finally {
        closeSync(inp);
      }
    }
    host(() => ftruncateSync(out, size));
    copyXattrs(src, dst, opts.format);
    if (opts.metaOnly) setXattr(dst, opts.format.metacopy, '');
    if (opts.canChown) chownQuiet(() => fchownSync(out, st.uid, st.gid));
    host(() => fchmodSync(out, st.mode & 0o7777));
    copyTimes(src, dst);
    // Only copied data needs the fsync (as in overlayfs, which syncs in ovl_copy_up_file alone): a
    // metadata-only copy holds no data, and its inode, xattrs and times are journalled before the
    // rename that makes it visible, so a crash shows the old object or the whole new one.
    if (opts.fsync && !opts.metaOnly) host(() => fsyncSync(out));
  } finally {
    closeSync(out);
  }
}

/** Copy every extended attribute except the whiteout format's own bookkeeping. */
export function copyXattrs(src: string, dst: string, format: WhiteoutFormat): void {
  let names: string[];
  try {
    names = listXattrs(src);
  } catch (e) {
    if (hostCode(e) === 'EOPNOTSUPP' || hostCode(e) === 'ENOTSUP') return;
    throw e;
  }
  for (const name of names) {
    if (format.isInternalXattr(name)) continue;
    const value = getXattr(src, name);
    if (value === undefined) continue;
    try {
      setXattr(dst, name, value);
    } catch (e) {
      // security.* / trusted.* may be refused to an unprivileged daemon; user data (user.*) may not.
      if (name.startsWith('user.')) throw e;
    }
  }
}

function setOwnerModeTimes(src: string, dst: string, st: Stats, opts: CopyOptions): void {
  if (opts.canChown) chownQuiet(() => chownSync(dst, st.uid, st.gid));
  host(() => chmodSync(dst, st.mode & 0o7777));
  copyTimes(src, dst);
}

/** Give `dst` the atime and mtime of `src`, to the nanosecond. */
export function copyTimes(src: string, dst: string): void {
  const t = host(() => lstatSync(src, { bigint: true }));
  utimensNs(dst, t.atimeNs, t.mtimeNs);
}

/** Put back a directory's atime/mtime from a bigint lstat taken earlier. */
export function restoreTimes(path: string, st: BigIntStats): void {
  try {
    utimensNs(path, st.atimeNs, st.mtimeNs);
  } catch { /* best effort: the directory may have gone */ }
}

/** chown, tolerating EPERM only (an unprivileged daemon keeps its own ownership, as overlayfs in a userns). */
function chownQuiet(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (hostCode(e) !== 'EPERM' && hostCode(e) !== 'EINVAL') host(() => { throw e; });
  }
}
