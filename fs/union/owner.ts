// Who a new file or directory belongs to. The kernel transport knows the caller (fuse_in_header's
// uid/gid) and hands it down; fuse-native does not, and its files stay the daemon's.
import { chmodSync, lchownSync, lstatSync } from '../../src/host/host-fs.js';
import { dirname } from 'node:path';
import { host } from '../../src/host/errors.js';
import type { Union } from '../../src/host/union.js';

const DAEMON_UID = process.geteuid?.() ?? 0;
const DAEMON_GID = process.getegid?.() ?? 0;

/** The caller of a creating operation. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Give the new object at host path `p` to `owner`, as the kernel would have: the group of a
 * setgid parent directory wins over the caller's. Only when the daemon may chown (root, or root of
 * its user namespace). chown clears setuid/setgid on a non-directory, so `mode`'s are put back.
 */
export function own(u: Union, p: string, owner: Owner | undefined, mode?: number): void {
  if (!owner || !u.options.canChown) return;
  // The daemon's own ids: the host kernel already gave the object what the caller would get.
  if (owner.uid === DAEMON_UID && owner.gid === DAEMON_GID) return;
  const parent = lstatSync(dirname(p));
  const gid = parent.mode & 0o2000 ? parent.gid : owner.gid;
  const st = lstatSync(p);
  if (st.uid === owner.uid && st.gid === gid) return;
  host(() => lchownSync(p, owner.uid, gid));
  if (mode !== undefined && mode & 0o6000 && !st.isDirectory() && !st.isSymbolicLink()) host(() => chmodSync(p, mode & 0o7777));
}
