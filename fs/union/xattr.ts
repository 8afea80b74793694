// Extended attributes through the view. The whiteout format's own attributes are invisible and
// cannot be set; setting or removing one on a lower object copies it up first.
import { fsError } from '../../src/core/errors.js';
import type { ViewPath } from '../../src/core/paths.js';
import { fgetxattr } from '../../src/host/syscalls.js';
import { getXattr, listXattrs, removeXattr, setXattr } from '../../src/host/xattr.js';
import type { Union } from '../../src/host/union.js';
import type { OpenFile } from '../handles.js';

const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

export function getxattr(u: Union, path: ViewPath, name: string): Buffer {
  const v = findXattr(u, path, name);
  if (v === undefined) throw fsError('ENODATA', name);
  return v;
}

/** getxattr, or undefined where it answers ENODATA (the kernel asks for security.capability before most writes). */
export function findXattr(u: Union, path: ViewPath, name: string): Buffer | undefined {
  const node = u.existing(path);
  if (u.format.isInternalXattr(name)) return undefined;
  return getXattr(u.hostPath(node), name);
}

/** findXattr of the file open as `f`, a top-layer file of its own: through its descriptor, no path resolved. */
export function findXattrOpen(u: Union, f: OpenFile, name: string): Buffer | undefined {
  if (u.format.isInternalXattr(name)) return undefined;
  return fgetxattr(f.fd, name);
}

export function listxattr(u: Union, path: ViewPath): string[] {
  const node = u.existing(path);
  return listXattrs(u.hostPath(node)).filter((n) => !u.format.isInternalXattr(n));
}

export function setxattr(u: Union, path: ViewPath, name: string, value: Buffer, flags: number): void {
  const node = u.existing(path);
  if (u.format.isInternalXattr(name)) throw fsError('EPERM', `${name} belongs to the ${u.format.id} whiteout format`);
  if (flags & (XATTR_CREATE | XATTR_REPLACE)) {
    const exists = getXattr(u.hostPath(node), name) !== undefined;
    if (flags & XATTR_CREATE && exists) throw fsError('EEXIST', name);
    if (flags & XATTR_REPLACE && !exists) throw fsError('ENODATA', name);
  }
  setXattr(u.copyUp(node, undefined, true), name, value);
}

export function removexattr(u: Union, path: ViewPath, name: string): void {
  const node = u.existing(path);
  if (u.format.isInternalXattr(name)) throw fsError('ENODATA', name);
  if (getXattr(u.hostPath(node), name) === undefined) throw fsError('ENODATA', name);
  removeXattr(u.copyUp(node, undefined, true), name);
}
