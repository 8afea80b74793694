// Opening files inside a layer without ever following a symlink that lives in the layer.
// The resolver only joins components it found to be real directories; to close the race where a
// directory is swapped for a symlink after that check, the open itself follows no symlink anywhere
// in the path (openat2 RESOLVE_NO_SYMLINKS: one system call). Where openat2 is refused (a kernel
// before 5.6, a seccomp filter), the fd is opened with O_NOFOLLOW and verified through
// /proc/self/fd instead: the kernel's idea of the path must be exactly the one we meant. A path
// too long for either (long-path.ts) is walked with RESOLVE_NO_SYMLINKS: safe by construction.
import { closeSync, constants, readlinkSync } from 'node:fs';
import { fsError } from '../core/errors.js';
import { host } from './errors.js';
import { openSync } from './host-fs.js';
import { isLong } from './long-path.js';
import { openNoSymlinks } from './syscalls.js';

const { O_NOFOLLOW } = constants;

/** Whether openat2 may be used (cleared once it is refused where open(2) is not). */
let openat2 = true;

/** open(2) of `path` following no symlink in it (ELOOP where one was swapped in). */
export function openVerified(path: string, flags: number, mode = 0o600): number {
  // Its directories were opened without following any symlink, its last name with O_NOFOLLOW;
  // and readlink could not name it anyway (the kernel fails d_path past PATH_MAX).
  if (isLong(path)) return host(() => openSync(path, flags | O_NOFOLLOW, mode));
  let refused = false;
  if (openat2) {
    try {
      return host(() => openNoSymlinks(path, flags | O_NOFOLLOW, mode));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ENOSYS' && code !== 'EPERM') throw e;
      refused = true; // a seccomp filter answers EPERM: told apart from a real EPERM below
    }
  }
  const fd = host(() => openSync(path, flags | O_NOFOLLOW, mode));
  if (refused) openat2 = false;
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
