// Attributes through an open file, never through its path: fstat, and fchmod/fchown/futimens/
// ftruncate on a file whose every name is gone (the kernel then has no path to give us), and
// fallocate. A read-only lower file is never changed: it first gets a private, nameless copy.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { fsError } from '../../src/core/errors.js';
import { copySparse } from '../../src/host/copy-data.js';
import { host } from '../../src/host/errors.js';
import { openVerified } from '../../src/host/safe-open.js';
import { fallocateFd, futimensNs } from '../../src/host/syscalls.js';
import type { Union } from '../../src/host/union.js';
import type { OpenFile } from '../handles.js';
import { hostKeyOf, toAttr, type Attr, type TimeSpec } from './attr.js';

/** What a SETATTR on an open file changes; absent fields stay as they are. */
export interface HandleChange {
  readonly mode?: number;
  /** -1 (or 0xffffffff) leaves that id as it is, as in chown(2). */
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  readonly atime?: TimeSpec;
  readonly mtime?: TimeSpec;
}

/**
 * fstat of an open file, with the number the view showed for it at open. `unlinked`: the view
 * has no name left for it (the kernel says so), so a lower file, whose host names are not the
 * view's, has a link count of 0, as on a local filesystem; a top-layer file's host count is right.
 */
export function fgetattr(f: OpenFile, unlinked = false): Attr {
  const st = host(() => fstatSync(f.metaFd ?? f.fd, { bigint: true }));
  const a = toAttr(st, false, f.ino);
  if (unlinked && !f.own) a.nlink = 0;
  return a;
}

/**
 * The attributes of the file open as `f` as they were when it was opened (its fstat then, no
 * system call): what a reply made right after the open (CREATE's) must carry; fgetattr later.
 */
export function attrAtOpen(f: OpenFile): Attr {
  return f.openStat !== undefined ? toAttr(f.openStat, false, f.ino) : fgetattr(f);
}

/** The host identity ("dev:ino") of the file open as `f`, as keyOf gives it for attributes. */
export function hostKey(f: OpenFile): string {
  if (f.hostKey === undefined) {
    const st = host(() => fstatSync(f.fd));
    f.hostKey = hostKeyOf(st.dev, st.ino);
  }
  return f.hostKey;
}

/**
 * Change the file open as `files[0]` (the others: every other handle of the same object). When
 * that is not a top-layer file of its own, each such handle first moves to one private copy,
 * made in the work directory and unlinked at once (nothing is left if the daemon dies).
 */
export function fsetattr(u: Union, files: readonly OpenFile[], change: HandleChange): void {
  const f = files[0];
  if (!f) throw fsError('EBADF', 'no open file');
  if (!f.own) detach(u, files.filter((g) => !g.own));
  const { mode, uid, gid, size, atime, mtime } = change;
  if (mode !== undefined) host(() => fchmodSync(f.fd, mode & 0o7777));
  if (uid !== undefined || gid !== undefined) {
    // -1: fchown(2) leaves that id as it is (no fstat to find it).
    const id = (v: number | undefined) => (v === undefined || v === 0xffffffff ? -1 : v);
    host(() => fchownSync(f.fd, id(uid), id(gid)));
  }
  if (size !== undefined) {
    if (!f.writable) throw fsError('EBADF', 'handle not open for writing');
    host(() => ftruncateSync(f.fd, size));
  }
  if (atime !== undefined || mtime !== undefined) {
    const pick = (t: TimeSpec | undefined) => (t === 'omit' ? undefined : t);
    futimensNs(f.fd, pick(atime), pick(mtime));
  }
}

/**
 * fallocate(2) on an open file, mode passed as is. The kernel only sends it for a file open for
 * writing, which is in the top layer already (open copied it up).
 */
export function fallocate(f: OpenFile, mode: number, offset: bigint, length: bigint): void {
  if (!f.writable) throw fsError('EBADF', 'handle not open for writing');
  fallocateFd(f.fd, mode, offset, length);
}

/**
 * A read-write descriptor of the file open as `f`, which has no name left to open it by: a file
 * that is not the top layer's own first moves to its private copy (the layer is never written).
 */
export function writableFd(u: Union, f: OpenFile): number {
  if (!f.own) detach(u, [f]);
  return host(() => openSync(`/proc/self/fd/${f.fd}`, constants.O_RDWR));
}

/** Give read-only handles of one object (a lower file, or a metacopy file's data) one private copy. */
function detach(u: Union, files: readonly OpenFile[]): void {
  const first = files[0];
  if (!first) return;
  const st = host(() => fstatSync(first.metaFd ?? first.fd, { bigint: true }));
  const copy = privateCopy(u, first.fd, Number(st.size));
  try {
    for (const g of files) {
      // Reopened through /proc, which works for a file with no name; read-only, as the handle was.
      // Before the copy takes the source's mode: a mode without read permission must not stop it.
      const fd = host(() => openSync(`/proc/self/fd/${copy}`, constants.O_RDONLY));
      closeSync(g.fd);
      if (g.metaFd !== undefined) closeSync(g.metaFd);
      g.fd = fd;
      g.hostKey = undefined;
      g.metaFd = undefined;
      g.own = true;
    }
    if (u.options.canChown) host(() => fchownSync(copy, Number(st.uid), Number(st.gid)));
    host(() => fchmodSync(copy, Number(st.mode) & 0o7777));
    futimensNs(copy, st.atimeNs, st.mtimeNs);
  } finally {
    closeSync(copy);
  }
}

/** A nameless copy of `size` bytes of `fd` in the work directory (mode 0600); returns its read-write fd. */
function privateCopy(u: Union, fd: number, size: number): number {
  const tmp = u.writer.tempPath();
  const out = openVerified(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    host(() => unlinkSync(tmp));
    copySparse(fd, out, size);
    host(() => ftruncateSync(out, size)); // a hole at the end stays a hole
    return out;
  } catch (e) {
    closeSync(out);
    throw e;
  }
}
