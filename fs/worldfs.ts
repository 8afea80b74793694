// WorldFs: the union filesystem's operations, named after the syscalls, over one Union and one
// handle table. Transport-agnostic: it speaks ViewPaths, handles and FsError, never FUSE.
import { fsError } from '../src/core/errors.js';
import type { ViewPath } from '../src/core/paths.js';
import { isUpper } from '../src/core/resolve.js';
import { HandleTable } from './handles.js';
import type { Union } from '../src/host/union.js';
import { lseekFd } from '../src/host/syscalls.js';
import { STAGE_THRESHOLD, type StageTicket } from '../src/host/copy-stager.js';
import * as attr from './union/attr.js';
import * as dir from './union/dir.js';
import * as files from './union/files.js';
import * as handleAttrs from './union/handle-attrs.js';
import * as killpriv from './union/killpriv.js';
import * as names from './union/names.js';
import { exchange, rename } from './union/rename.js';
import type { Owner } from './union/owner.js';
import * as xattr from './union/xattr.js';

export type { Attr, StatFs, TimeSpec } from './union/attr.js';
export type { HandleChange } from './union/handle-attrs.js';
/** Creating operations take the caller as `owner` when the transport knows it (the new object is theirs). */
export type { Owner } from './union/owner.js';

export class WorldFs {
  readonly handles = new HandleTable();
  constructor(private current: Union) {}

  get union(): Union {
    return this.current;
  }

  /**
   * Serve another layer stack from now on (a merged world's view becoming an alias of its
   * ancestor's). Open files keep their descriptors: a merge moves files by rename.
   */
  swap(union: Union): void {
    const old = this.current;
    this.current = union;
    old.close(); // a staged operation resuming later goes through `union`: the new one
  }

  /**
   * squash_to_uid/squash_to_gid (as in fuse-overlayfs): every object is reported as owned by these
   * ids. A rootless world's user namespace maps only its caller, so without this the files of the
   * host's root would be nobody's there and the world's root could change none of them.
   */
  squash: { readonly uid?: number; readonly gid?: number } = {};

  /**
   * Begin copying, in the background, the data an operation on `path` would copy up (`dataLimit`
   * and `metaOnly` as for Union.copyUp), when it is big enough to be worth it. The operation itself,
   * run after the ticket is ready, then finds the data copied. Undefined: nothing to stage, run it now.
   */
  stageCopyUp(path: ViewPath, dataLimit?: number, metaOnly = false): StageTicket | undefined {
    const r = this.union.resolve(path);
    if (r.kind === 'absent') return undefined;
    const d = this.union.dataToCopy(r.node, dataLimit, metaOnly);
    if (!d || d.bytes < STAGE_THRESHOLD) return undefined;
    return this.union.stager.stage(d.src, d.bytes);
  }

  /**
   * Whether `path`'s highest copy is in the top layer. Only there are two names of one host inode
   * one object for good: a lower hard link is broken by the first copy-up through either name.
   */
  inTopLayer(path: ViewPath): boolean {
    const r = this.union.resolve(path);
    return r.kind === 'found' && isUpper(r.node);
  }

  getattr(path: ViewPath) { return this.squashed(attr.getattr(this.union, path)); }
  /** getattr, or undefined when the name is not there (no exception: a negative lookup is common). */
  lookupAttr(path: ViewPath) {
    const a = attr.lookupAttr(this.union, path);
    return a && this.squashed(a);
  }
  /**
   * fstat of an open file (undefined for an unknown handle), with the number the view showed at
   * open; `unlinked`: the view has no name left for it (a lower file then counts 0 links).
   */
  fgetattr(handle: number, unlinked = false) {
    const f = this.handles.get(handle);
    return f ? this.squashed(handleAttrs.fgetattr(f, unlinked)) : undefined;
  }
  /** fgetattr as of the handle's open, without asking the host again (a reply to the open itself). */
  attrAtOpen(handle: number) {
    const f = this.handles.get(handle);
    return f ? this.squashed(handleAttrs.attrAtOpen(f)) : undefined;
  }
  /**
   * Change an object through its open handles (`handles[0]` first: one of the top layer if any),
   * for a file whose every name is gone; a read-only lower file gets a private copy first.
   */
  fsetattr(handles: readonly number[], change: handleAttrs.HandleChange) {
    const open = handles.map((h) => this.handles.get(h)).filter((f) => f !== undefined);
    handleAttrs.fsetattr(this.union, open, change);
  }
  /**
   * A new read-write handle of the file open as `handle`, whose every name is gone (a write to a
   * file the kernel opened itself, then unlinked): a lower file gets its private copy first.
   */
  reopenWritable(handle: number): number {
    const f = this.handles.get(handle);
    if (!f) throw fsError('EBADF', `handle ${handle}`);
    const fd = handleAttrs.writableFd(this.union, f);
    return this.handles.add({ fd, path: f.path, writable: true, layer: 0, ino: f.ino, own: true });
  }
  /** fallocate(2) on a handle open for writing (FALLOC_FL_* mode as is; 64-bit offsets exact). */
  fallocate(handle: number, mode: number, offset: bigint, length: bigint) {
    const f = this.handles.get(handle);
    if (!f) throw fsError('EBADF', `handle ${handle}`);
    handleAttrs.fallocate(f, mode, offset, length);
  }
  /** lseek(2) with SEEK_DATA or SEEK_HOLE on a handle: where the layer file's data or next hole begins. */
  seekData(handle: number, offset: bigint, whence: number): bigint {
    const f = this.handles.get(handle);
    if (!f) throw fsError('EBADF', `handle ${handle}`);
    return lseekFd(f.fd, offset, whence);
  }
  /** Whether `handle` is open on a file of the top layer itself (see OpenFile.own). */
  ownsHandle(handle: number): boolean {
    return this.handles.get(handle)?.own ?? false;
  }
  /** Whether `handle` is open on a top-layer file of its own that is the object `key` ("dev:ino") names. */
  isObject(handle: number, key: string): boolean {
    const f = this.handles.get(handle);
    return f !== undefined && f.own && handleAttrs.hostKey(f) === key;
  }
  /** getxattr through a handle open on a top-layer file of its own; undefined where it answers ENODATA. */
  fgetxattr(handle: number, name: string) {
    const f = this.handles.get(handle);
    if (!f?.own) throw fsError('EBADF', `handle ${handle} is not a top-layer file of its own`);
    return xattr.findXattrOpen(this.union, f, name);
  }
  private squashed(a: attr.Attr): attr.Attr {
    const { uid, gid } = this.squash;
    return uid === undefined && gid === undefined ? a : { ...a, uid: uid ?? a.uid, gid: gid ?? a.gid };
  }
  access(path: ViewPath, mode: number) { attr.access(this.union, path, mode); }
  statfs() { return attr.statfs(this.union); }
  chmod(path: ViewPath, mode: number) { attr.chmod(this.union, path, mode); }
  chown(path: ViewPath, uid: number, gid: number) { attr.chown(this.union, path, uid, gid); }
  utimens(path: ViewPath, atime: attr.TimeSpec, mtime: attr.TimeSpec) { attr.utimens(this.union, path, atime, mtime); }
  truncate(path: ViewPath, size: number) { attr.truncate(this.union, path, size); }

  readdir(path: ViewPath) { return dir.readdir(this.union, path); }
  mkdir(path: ViewPath, mode: number, owner?: Owner, umask?: number) { dir.mkdir(this.union, path, mode, owner, umask); }
  rmdir(path: ViewPath) { dir.rmdir(this.union, path); }

  unlink(path: ViewPath) { names.unlink(this.union, path); }
  symlink(target: string, path: ViewPath, owner?: Owner) { names.symlink(this.union, target, path, owner); }
  readlink(path: ViewPath) { return names.readlink(this.union, path); }
  link(existing: ViewPath, path: ViewPath) { names.link(this.union, existing, path); }
  mknod(path: ViewPath, mode: number, dev: number, owner?: Owner, umask?: number) { names.mknod(this.union, path, mode, dev, owner, umask); }
  rename(from: ViewPath, to: ViewPath) { rename(this.union, from, to); }
  /** Swap two names (renameat2 RENAME_EXCHANGE). */
  exchange(a: ViewPath, b: ViewPath) { exchange(this.union, a, b); }

  open(path: ViewPath, flags: number) { return files.open(this.union, this.handles, path, flags); }
  create(path: ViewPath, mode: number, owner?: Owner, umask?: number) { return files.create(this.union, this.handles, path, mode, owner, umask); }
  /** open(2) with O_TMPFILE in `dir`: the handle of a new file with no name (the kernel transport's TMPFILE). */
  tmpfile(dir: ViewPath, mode: number, owner?: Owner, umask?: number) { return files.tmpfile(this.union, this.handles, dir, mode, owner, umask); }
  /** linkat(2) of that file's descriptor: its first name, `path`. */
  linkHandle(handle: number, path: ViewPath) { files.linkHandle(this.union, this.handles, handle, path); }
  read(handle: number, buf: Buffer, len: number, pos: number) { return files.read(this.handles, handle, buf, len, pos); }
  write(handle: number, buf: Buffer, len: number, pos: number) { return files.write(this.handles, handle, buf, len, pos); }
  fsync(handle: number, datasync: boolean) { files.fsync(this.handles, handle, datasync); }
  ftruncate(handle: number, size: number) { files.ftruncate(this.handles, handle, size); }
  release(handle: number) { files.release(this.handles, handle); }
  /** A caller without CAP_FSETID wrote or truncated: drop setuid (and setgid with group execute). */
  dropSuidgid(handle: number) { killpriv.dropOnHandle(this.handles, handle); }
  dropSuidgidAt(path: ViewPath) { killpriv.dropAtPath(this.union, path); }

  getxattr(path: ViewPath, name: string) { return xattr.getxattr(this.union, path, name); }
  /** getxattr, or undefined where it would answer ENODATA (no exception). */
  findXattr(path: ViewPath, name: string) { return xattr.findXattr(this.union, path, name); }
  listxattr(path: ViewPath) { return xattr.listxattr(this.union, path); }
  setxattr(path: ViewPath, name: string, value: Buffer, flags: number) { xattr.setxattr(this.union, path, name, value, flags); }
  removexattr(path: ViewPath, name: string) { xattr.removexattr(this.union, path, name); }
}
