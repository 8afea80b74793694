// Name operations other than rename: unlink, symlink, readlink, link, mknod (sockets included).
import { constants } from 'node:fs';
import { linkSync, readlinkSync, symlinkSync } from '../../src/host/host-fs.js';
import { fsError } from '../../src/core/errors.js';
import type { ViewPath } from '../../src/core/paths.js';
import { host } from '../../src/host/errors.js';
import { kindOfMode } from '../../src/host/entry.js';
import { mknod as hostMknod, splitDev } from '../../src/host/mknod.js';
import { openVerified } from '../../src/host/safe-open.js';
import { closeSync } from 'node:fs';
import type { Union } from '../../src/host/union.js';
import { own, type Owner } from './owner.js';

export function unlink(u: Union, path: ViewPath): void {
  const node = u.existing(path);
  if (node.entry.kind === 'dir') throw fsError('EISDIR', path);
  u.removeNode(u.parentDir(path), node);
}

export function symlink(u: Union, target: string, path: ViewPath, owner?: Owner): void {
  u.placeNew(path, u.resolve(path), false, (p) => {
    host(() => symlinkSync(target, p));
    own(u, p, owner);
  });
}

export function readlink(u: Union, path: ViewPath): string {
  const node = u.existing(path);
  if (node.entry.kind !== 'symlink') throw fsError('EINVAL', `${path} is not a symlink`);
  return host(() => readlinkSync(u.hostPath(node)));
}

/** link(2): a lower source is copied up first; the new name then shares the top-layer inode. */
export function link(u: Union, existing: ViewPath, path: ViewPath): void {
  const src = u.existing(existing);
  if (src.entry.kind === 'dir') throw fsError('EPERM', 'hard link to a directory');
  if (u.resolve(path).kind === 'found') throw fsError('EEXIST', path);
  const upper = u.copyUp(src);
  // Resolve the new name only now: the copy-up may have created its parent in the top layer.
  u.placeNew(path, u.resolve(path), false, (p) => host(() => linkSync(upper, p)), false);
}

/** mknod(2): fifos, devices (as root), socket nodes (bind(2) of an AF_UNIX socket) and regular files. */
export function mknod(u: Union, path: ViewPath, mode: number, dev: number, owner?: Owner, umask?: number): void {
  const kind = kindOfMode(mode);
  if (kind === undefined) throw fsError('EINVAL', `mknod of file type ${(mode & constants.S_IFMT).toString(8)}`);
  const { major, minor } = splitDev(dev);
  const r = u.resolve(path);
  if (r.kind === 'found') throw fsError('EEXIST', path);
  mode = u.newMode(r.parent, mode, umask);
  if (u.format.isReservedDevice(kind, dev)) {
    throw fsError('EPERM', `a ${major}/${minor} character device reads as a whiteout in the ${u.format.id} format`);
  }
  const place = (make: (p: string) => void) => u.placeNew(path, r, false, (p) => { make(p); own(u, p, owner, mode); });
  switch (kind) {
    case 'fifo': return place((p) => hostMknod(p, 'p', mode));
    case 'chardev': return place((p) => hostMknod(p, 'c', mode, major, minor));
    case 'blockdev': return place((p) => hostMknod(p, 'b', mode, major, minor));
    case 'socket': return place((p) => hostMknod(p, 's', mode));
    case 'file':
      return place((p) => closeSync(openVerified(p, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, mode & 0o7777)));
    default:
      throw fsError('EOPNOTSUPP', `mknod of a ${kind}`);
  }
}
