// File data operations, served through the handle table: open, create, tmpfile (O_TMPFILE) and
// its first name, read, write, flush, fsync, release, ftruncate. Opening a lower file for writing
// (or with O_TRUNC) copies it up first.
import { closeSync, constants, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { fsError } from '../../src/core/errors.js';
import type { ViewPath } from '../../src/core/paths.js';
import { host } from '../../src/host/errors.js';
import { ownIno, reportedIno } from '../../src/host/inode-origin.js';
import { isUpper } from '../../src/core/resolve.js';
import { openVerified } from '../../src/host/safe-open.js';
import type { HandleTable, OpenFile } from '../handles.js';
import { hostKeyOf } from './attr.js';
import { linkFdSync } from '../../src/host/host-fs.js';
import { inheritFromParent, type Union } from '../../src/host/union.js';
import { own, ownFd, type Owner } from './owner.js';

const { O_RDONLY, O_TRUNC, O_CREAT, O_EXCL, O_NOCTTY, O_RDWR } = constants;
const O_ACCMODE = 3;
/** Linux's O_PATH (Node has no constant for it): a descriptor to fstat, not to read. */
const O_PATH = 0o10000000;
/** Linux's O_TMPFILE (__O_TMPFILE | O_DIRECTORY; Node has no constant for it): a file with no name. */
const O_TMPFILE = 0o20200000;

/**
 * Open `path`; the handle remembers the number the view shows for it now (getattr's), which
 * fstat keeps reporting once the file is renamed or unlinked.
 */
export function open(u: Union, handles: HandleTable, path: ViewPath, flags: number): number {
  const node = u.existing(path);
  const writable = (flags & O_ACCMODE) !== O_RDONLY;
  if (node.entry.kind === 'dir' && (writable || (flags & O_TRUNC))) throw fsError('EISDIR', path);
  if (writable || flags & O_TRUNC) {
    const fd = openVerified(u.copyUp(node, flags & O_TRUNC ? 0 : undefined), flags & ~(O_CREAT | O_EXCL | O_NOCTTY));
    try {
      // The copy is another node now (its path resolves to the top layer); an upper one was already.
      const st = host(() => fstatSync(fd, { bigint: true }));
      const ino = reportedIno(u, isUpper(node) ? node : u.existing(path), st);
      return handles.add({ fd, path, writable, layer: 0, ino, own: true, openStat: st });
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }
  const meta = u.hostPath(node);
  const data = node.entry.kind === 'file' ? u.dataPath(node) : meta;
  const fd = openVerified(data, flags & ~(O_CREAT | O_EXCL | O_NOCTTY));
  let metaFd: number | undefined;
  try {
    if (data !== meta) metaFd = openVerified(meta, O_PATH);
    const st = host(() => fstatSync(metaFd ?? fd, { bigint: true }));
    const ino = reportedIno(u, node, st);
    return handles.add({ fd, path, writable, layer: node.branches[0]!.layer, ino, own: isUpper(node) && metaFd === undefined, ...(metaFd !== undefined ? { metaFd } : { openStat: st }) });
  } catch (e) {
    closeSync(fd);
    if (metaFd !== undefined) closeSync(metaFd);
    throw e;
  }
}

export function create(u: Union, handles: HandleTable, path: ViewPath, mode: number, owner?: Owner, umask?: number): number {
  const r = u.resolve(path);
  if (r.kind === 'found') throw fsError('EEXIST', path);
  mode = u.newMode(r.parent, mode, umask);
  const fd = u.placeNew(path, r, false, (p) => {
    const fd = openVerified(p, O_CREAT | O_EXCL | O_RDWR, mode & 0o7777);
    own(u, p, owner, mode);
    return fd;
  });
  try {
    const st = host(() => fstatSync(fd, { bigint: true }));
    return handles.add({ fd, path, writable: true, layer: 0, ino: ownIno(u, st), own: true, hostKey: hostKeyOf(st.dev, st.ino), openStat: st });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * open(2) with O_TMPFILE in view directory `dir`: a new regular file with no name, made in the work
 * directory (the top layer's filesystem, so `linkHandle` can name it anywhere in the view). It
 * belongs to `owner`, with the group of `dir` when that is setgid, as a file created in it would.
 * Nothing is written to the top layer until it gets a name; closed unnamed, it is gone.
 */
export function tmpfile(u: Union, handles: HandleTable, dir: ViewPath, mode: number, owner?: Owner, umask?: number): number {
  const d = u.existing(dir);
  if (d.entry.kind !== 'dir') throw fsError('ENOTDIR', dir);
  mode &= ~(umask ?? 0); // made in the work directory: `dir`'s default ACL, if any, is not inherited
  const fd = host(() => openSync(u.writer.work, O_TMPFILE | O_RDWR, mode & 0o7777));
  try {
    const parent = u.hostPath(d);
    ownFd(u, fd, parent, owner, mode);
    inheritFromParent(fd, parent, false); // as placeNew gives a file built in the work directory
    const st = host(() => fstatSync(fd, { bigint: true }));
    return handles.add({ fd, path: dir, writable: true, layer: 0, ino: ownIno(u, st), own: true, hostKey: hostKeyOf(st.dev, st.ino), openStat: st });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The first name of the file `tmpfile` made, open as handle `id`: linked at `path` in the top layer. */
export function linkHandle(u: Union, handles: HandleTable, id: number, path: ViewPath): void {
  const f = file(handles, id);
  if (!f.own || f.layer !== 0) throw fsError('EINVAL', `handle ${id} is no file of the top layer`);
  u.placeNew(path, u.resolve(path), false, (p) => linkFdSync(f.fd, p), false);
}

function file(handles: HandleTable, id: number): OpenFile {
  const f = handles.get(id);
  if (!f) throw fsError('EBADF', `handle ${id}`);
  return f;
}

export function read(handles: HandleTable, id: number, buf: Buffer, len: number, pos: number): number {
  const f = file(handles, id);
  return host(() => readSync(f.fd, buf, 0, len, pos));
}

export function write(handles: HandleTable, id: number, buf: Buffer, len: number, pos: number): number {
  const f = file(handles, id);
  let done = 0;
  while (done < len) done += host(() => writeSync(f.fd, buf, done, len - done, pos + done));
  return done;
}

export function fsync(handles: HandleTable, id: number, datasync: boolean): void {
  const f = file(handles, id);
  host(() => (datasync ? fdatasyncSync(f.fd) : fsyncSync(f.fd)));
}

export function ftruncate(handles: HandleTable, id: number, size: number): void {
  const f = file(handles, id);
  if (!f.writable) throw fsError('EBADF', 'handle not open for writing');
  host(() => ftruncateSync(f.fd, size));
}

export function release(handles: HandleTable, id: number): void {
  handles.release(id);
}
