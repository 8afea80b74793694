// The one place an FsError becomes a negative errno for the kernel. Anything else is a bug:
// its stack goes to stderr and the caller gets EIO — never ENOENT, never a silent success.
import { constants } from 'node:os';
import { FsError } from '../src/core/errors.js';

const ERRNO = constants.errno as Record<string, number>;

/** -errno for a thrown value. */
export function toErrno(e: unknown, op: string, path: string): number {
  if (e instanceof FsError) {
    const n = ERRNO[e.code];
    if (n !== undefined) return -n;
  }
  process.stderr.write(`worldfs: unexpected error in ${op} ${path}: ${(e as Error)?.stack ?? String(e)}\n`);
  return -ERRNO.EIO!;
}

export const EIO = -ERRNO.EIO!;
export const ERANGE = -ERRNO.ERANGE!;
export const ENODATA = -ERRNO.ENODATA!;
