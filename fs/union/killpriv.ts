// Dropping setuid/setgid when a caller without CAP_FSETID writes or truncates a file: with
// FUSE_HANDLE_KILLPRIV_V2 the kernel leaves it to the filesystem (and stops asking for
// security.capability before every write). As the VFS does: setuid always, setgid only when the
// group may execute. File capabilities go by themselves: the host kernel drops them when we write.
import { fchmodSync, fstatSync } from 'node:fs';
import { chmodSync, lstatSync } from '../../src/host/host-fs.js';
import type { ViewPath } from '../../src/core/paths.js';
import { fsError } from '../../src/core/errors.js';
import { host } from '../../src/host/errors.js';
import type { Union } from '../../src/host/union.js';
import type { HandleTable } from '../handles.js';

/** The mode without the bits a write by an unprivileged caller drops; the same mode when none. */
export function withoutSuidgid(mode: number): number {
  let m = mode & ~0o4000;
  if ((mode & 0o2010) === 0o2010) m &= ~0o2000;
  return m;
}

/** Drop the bits on the file open as `handle` (it is writable, so in the top layer). */
export function dropOnHandle(handles: HandleTable, handle: number): void {
  const f = handles.get(handle);
  if (!f) throw fsError('EBADF', `handle ${handle}`);
  const mode = host(() => fstatSync(f.fd)).mode & 0o7777;
  if (withoutSuidgid(mode) !== mode) host(() => fchmodSync(f.fd, withoutSuidgid(mode)));
}

/** Drop the bits on the file at `path` (just truncated, so in the top layer). */
export function dropAtPath(u: Union, path: ViewPath): void {
  const node = u.existing(path);
  if (node.entry.kind !== 'file') return;
  const upper = u.copyUp(node, undefined, true);
  const mode = host(() => lstatSync(upper)).mode & 0o7777;
  if (withoutSuidgid(mode) !== mode) host(() => chmodSync(upper, withoutSuidgid(mode)));
}
