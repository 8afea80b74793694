// Opening files inside a layer without ever following a symlink that lives in the layer.
// The resolver only joins components it found to be real directories; to close the race where a
// directory is swapped for a symlink after that check, every opened fd is verified through
// /proc/self/fd: the kernel's idea of the path must be exactly the one we meant. A path too long
// for that (long-path.ts) is walked with RESOLVE_NO_SYMLINKS instead: safe by construction.
import { closeSync, constants, readlinkSync } from 'node:fs';
import { fsError } from '../core/errors.js';
import { host } from './errors.js';
import { openSync } from './host-fs.js';
import { isLong } from './long-path.js';

const { O_NOFOLLOW } = constants;

/** open(2) with O_NOFOLLOW, then check that the fd names `path` itself (ELOOP otherwise). */
export function openVerified(path: string, flags: number, mode = 0o600): number {
  const fd = host(() => openSync(path, flags | O_NOFOLLOW, mode));
  // Its directories were opened without following any symlink, its last name with O_NOFOLLOW;
  // and readlink could not name it anyway (the kernel fails d_path past PATH_MAX).
  if (isLong(path)) return fd;
  let real: string;
  try {
    real = readlinkSync(`/proc/self/fd/${fd}`);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (real !== path) {
    closeSync(fd);
    throw fsError('ELOOP', `${path} resolved to ${real}: a layer directory was replaced by a symlink`);
  }
  return fd;
}
